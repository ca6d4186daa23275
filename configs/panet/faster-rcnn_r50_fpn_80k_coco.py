# Detection-only twin of Table 3 row 1 (for APbb): the same model without
# the mask branch, on the detection schedule: lr 0.02 for 60k iterations,
# then 0.002 up to 80k. The other twins descend from this file with their
# mask row's delta.
_base_ = ['./mask-rcnn_r50_fpn_160k_coco.py', '../_base_/detection_only.py']

model = _base_.detection_only_model
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=False),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
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

max_iters = 80000
lr_step = 60000
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[lr_step],
        gamma=0.1)
]
