# Detection-only twin of Table 3 row 1 (for APbb): the same model without
# the mask branch, on the detection schedule: lr 0.02 for 60k iterations,
# then 0.002 up to 80k. The other twins descend from this file with their
# mask row's delta.
_base_ = './mask-rcnn_r50_fpn_160k_coco.py'

model = dict(
    type='FasterRCNN', roi_head=dict(mask_roi_extractor=None, mask_head=None))
train_pipeline = _base_.train_pipeline
train_pipeline[1]['with_mask'] = False
test_pipeline = _base_.test_pipeline
test_pipeline[2]['with_mask'] = False
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metric='bbox')
test_evaluator = val_evaluator

max_iters = 80000
lr_step = 60000
train_cfg = dict(max_iters=max_iters)
param_scheduler = _base_.param_scheduler
param_scheduler[1].update(end=max_iters, milestones=[lr_step])
