# Table 10: full PANet on Mapillary Vistas (MVD v1.2, 37 instance classes),
# with the paper's appendix settings over the COCO model (Table 3 row 9):
# RPN anchors of 7 sizes (8 to 512: 3 octave scales per level, strides 4-64)
# and 5 ratios (0.2, 0.5, 1, 2, 5); training at longer edge 2400 with the
# shorter edge random in 600-2000, flip; 16 images per batch; lr 0.02 for
# 60k iterations, then 0.002 up to 80k. Single-scale test at shorter edge
# 1800 (the paper gives only its multi-scale test: the -tta config).
# Data: tools/dataset_converters/mapillary_vistas.py
# (docs/en/user_guides/data_and_weights.md).
_base_ = './panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

data_root = 'data/mapillary/'
classes = ('Bird', 'Ground Animal', 'Crosswalk - Plain', 'Person', 'Bicyclist',
           'Motorcyclist', 'Other Rider', 'Lane Marking - Crosswalk', 'Banner',
           'Bench', 'Bike Rack', 'Billboard', 'Catch Basin', 'CCTV Camera',
           'Fire Hydrant', 'Junction Box', 'Mailbox', 'Manhole', 'Phone Booth',
           'Street Light', 'Pole', 'Traffic Sign Frame', 'Utility Pole',
           'Traffic Light', 'Traffic Sign (Back)', 'Traffic Sign (Front)',
           'Trash Can', 'Bicycle', 'Boat', 'Bus', 'Car', 'Caravan',
           'Motorcycle', 'Other Vehicle', 'Trailer', 'Truck', 'Wheeled Slow')
model = dict(
    rpn_head=dict(
        anchor_generator=dict(scales=[2, 4, 8], ratios=[0.2, 0.5, 1, 2, 5])),
    roi_head=dict(
        bbox_head=dict(num_classes=len(classes)),
        mask_head=dict(num_classes=len(classes))))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomResize',
        scale=[(2400, 600), (2400, 2000)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='Resize', scale=(2400, 1800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/instances_training.json',
        data_prefix=dict(img='training/images/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/instances_validation.json',
        data_prefix=dict(img='validation/images/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root +
                     'annotations/instances_validation.json')
test_evaluator = val_evaluator

max_iters = 80000
train_cfg = dict(max_iters=max_iters, val_interval=10000)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[60000],
        gamma=0.1)
]
