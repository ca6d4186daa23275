# The authors' released detection-only PANet, 4conv1fc head
# (ShuLiu1993/PANet: configs/panet/e2e_panet_R-50-FPN_1x_det.yaml): their
# mask model without the mask branch, on their 1x schedule (90k iterations,
# x0.1 at 60k and 80k). Parent: the authors' mask config.
_base_ = './panet_r50_pafpn-gn_ms-180k_coco.py'

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

max_iters = 90000
train_cfg = dict(max_iters=max_iters)
param_scheduler = _base_.param_scheduler
param_scheduler[1].update(end=max_iters, milestones=[60000, 80000])
