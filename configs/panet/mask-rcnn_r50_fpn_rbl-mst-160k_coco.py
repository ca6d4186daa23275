# Table 3 row 3: RBL + multi-scale training (MST): longer side 1400, shorter
# side random in [400, 1400]. Testing stays single scale (row 2).
_base_ = './mask-rcnn_r50_fpn_rbl-160k_coco.py'

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomResize',
        scale=[(1400, 400), (1400, 1400)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
