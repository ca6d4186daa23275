# Table 3 row 2 (RBL): the paper's re-implemented Mask R-CNN baseline.
# Delta over row 1: shorter side 800, longer side at most 1000 (train and
# test). RoIs (512 at 1:3), batch 16 and the schedule (lr 0.02 for 120k
# iterations, then 0.002 for 40k) are row 1's. The separately trained RPN of
# the paper's protocol is the *sep-rpn* config beside it.
_base_ = './mask-rcnn_r50_fpn_160k_coco.py'

img_scale = (1000, 800)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
