# The PANet shapes config beside it, every PANet component and training
# setting unchanged, trained with AdamW for 550 iterations instead of SGD for
# 1100, so that the main job (the MBN config derived from it) fits 15
# minutes on a slow 2-core machine: 20 warm-up iterations, beta2 0.99, lr
# x0.1 at 80%. Gradient clipping and bf16 autocast as in the parent.
_base_ = './panet_r18-w32_pafpn-relu_1100i_shapes.py'

max_iters = 550
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[int(max_iters * 0.8)],
        gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=1e-3,
        betas=(0.9, 0.99),
        weight_decay=0.05,
        fused=True))
default_hooks = dict(checkpoint=dict(interval=max_iters))
