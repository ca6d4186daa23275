# Table 3 row 3: RBL + multi-scale training (MST): longer side 1400, shorter
# side random in [400, 1400]. Testing stays single scale (row 2).
_base_ = './mask-rcnn_r50_fpn_rbl-160k_coco.py'

train_pipeline = _base_.train_pipeline
train_pipeline[2] = dict(
    type='RandomResize', scale=[(1400, 400), (1400, 1400)], keep_ratio=True)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
