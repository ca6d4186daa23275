# Detection-only twin of Table 3 row 2 (RBL): shorter side 800, longer 1000.
_base_ = './faster-rcnn_r50_fpn_80k_coco.py'

img_scale = (1000, 800)
train_pipeline = _base_.train_pipeline
train_pipeline[2]['scale'] = img_scale
test_pipeline = _base_.test_pipeline
test_pipeline[1]['scale'] = img_scale
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
