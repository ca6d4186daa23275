# Table 3 row 2 (RBL): the paper's re-implemented Mask R-CNN baseline.
# Delta over row 1: shorter side 800, longer side at most 1000 (train and
# test). RoIs (512 at 1:3), batch 16 and the schedule (lr 0.02 for 120k
# iterations, then 0.002 for 40k) are row 1's. Not copied: the separately
# trained RPN (see README.md).
_base_ = './mask-rcnn_r50_fpn_160k_coco.py'

img_scale = (1000, 800)
train_pipeline = _base_.train_pipeline
train_pipeline[2]['scale'] = img_scale
test_pipeline = _base_.test_pipeline
test_pipeline[1]['scale'] = img_scale
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
