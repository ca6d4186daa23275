# The authors' released detection-only PANet, 4conv1fc head
# (ShuLiu1993/PANet: configs/panet/e2e_panet_R-50-FPN_1x_det.yaml): their
# mask model without the mask branch, on their 1x schedule (90k iterations,
# x0.1 at 60k and 80k). Parent: the authors' mask config.
_base_ = [
    './panet_r50_pafpn-gn_ms-180k_coco.py', '../_base_/detection_only.py'
]

model = _base_.detection_only_model
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=False),
    dict(
        type='RandomChoiceResize',
        scales=[(1400, s) for s in (1200, 1200, 1000, 800, 600, 400)],
        resize_type='DetectronResize'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='DetectronResize', scale=(1400, 1000)),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=False),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = _base_.detection_only_evaluator
test_evaluator = val_evaluator

max_iters = 90000
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0 / 3,
        by_epoch=False,
        begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[60000, 80000],
        gamma=0.1)
]
