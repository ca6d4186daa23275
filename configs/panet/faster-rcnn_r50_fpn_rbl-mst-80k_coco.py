# Detection-only twin of Table 3 row 3: RBL + MST.
_base_ = './faster-rcnn_r50_fpn_rbl-80k_coco.py'

train_pipeline = _base_.train_pipeline
train_pipeline[2] = dict(
    type='RandomResize', scale=[(1400, 400), (1400, 1400)], keep_ratio=True)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
