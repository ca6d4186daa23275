# Full PANet as the authors' released code trains it (spec section 4): frozen
# backbone BN (conv1 and res2 frozen), GN(32) in the neck and heads, legacy
# RoIAlign (aligned=False), ReLU after the FF fc, shorter side from
# {1200, 1200, 1000, 800, 600, 400} (longer <= 1400) with flip, testing at
# 1000/1400, a 2x schedule (180k iterations, x0.1 at 120k and 160k) with a
# 500-iteration warmup from 1/3. Parent: Table 3 row 9 (the paper's choices).
_base_ = './panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

gn = dict(type='GN', num_groups=32, requires_grad=True)
roi_align = dict(aligned=False)  # sampling ratio 2 comes from row 1
model = dict(
    backbone=dict(
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True),
    neck=dict(norm_cfg=gn, bottom_up_norm_cfg=gn),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=roi_align),
        bbox_head=dict(norm_cfg=gn),
        mask_roi_extractor=dict(roi_layer=roi_align),
        mask_head=dict(norm_cfg=gn, ff_fc_relu=True)))

train_pipeline = _base_.train_pipeline
train_pipeline[2] = dict(
    type='RandomChoiceResize',
    scales=[(1400, s) for s in (1200, 1200, 1000, 800, 600, 400)],
    keep_ratio=True)
test_pipeline = _base_.test_pipeline
test_pipeline[1]['scale'] = (1400, 1000)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 180000
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
        milestones=[120000, 160000],
        gamma=0.1)
]
