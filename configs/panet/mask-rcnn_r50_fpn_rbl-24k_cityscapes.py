# Table 9 row 1: the re-implemented Mask R-CNN (Table 3 row 2) on Cityscapes
# (fine annotations only, mmdet's CityscapesDataset, 8 classes) with the
# paper's Cityscapes settings: shorter side random from {800, 1024} for
# training, 1024 for testing; 8 images per batch (8 GPUs x 1); lr 0.01 for
# 18k iterations, then 0.001 up to 24k. ImageNet-pretrained R-50.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/cityscapes_instance.py',
    'mmdet::_base_/default_runtime.py', '../_base_/panet_runtime.py'
]

num_classes = 8
roi_layer = dict(sampling_ratio=2)  # as on COCO (Table 3 row 1)
# channels-last batches (the same values): oneDNN's CPU convolutions run
# them faster, in bf16 most of all, as tensor-core GPUs do
model = dict(
    data_preprocessor=dict(
        type='MemoryFormatDetDataPreprocessor', memory_format='channels_last'),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=roi_layer),
        bbox_head=dict(num_classes=num_classes),
        mask_roi_extractor=dict(roi_layer=roi_layer),
        mask_head=dict(num_classes=num_classes)))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(2048, 800), (2048, 1024)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    batch_size=1,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CityscapesDataset',
        data_root=_base_.data_root,
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix=dict(img='leftImg8bit/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))

max_iters = 24000
lr_step = 18000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
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
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=4000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
