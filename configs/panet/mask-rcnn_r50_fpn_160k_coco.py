# Table 3 row 1 (MRB): Mask R-CNN R-50-FPN with the Mask R-CNN paper's own
# settings: shorter side 800 (longer <= 1333), 512 RoIs per image at 1:3,
# 16 images per batch (8 GPUs x 2), lr 0.02 for 120k iterations, then 0.002
# up to 160k; RoIAlign with 2x2 samples per bin (Detectron's Mask R-CNN and
# PANet; mmdet's base samples adaptively, more points the larger the RoI).
# Every other row of Tables 3-5 descends from this file.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/panet_runtime.py'
]

# channels-last batches (the same values): oneDNN's CPU convolutions run
# them faster, in bf16 most of all, as tensor-core GPUs do
model = dict(
    data_preprocessor=dict(
        type='MemoryFormatDetDataPreprocessor', memory_format='channels_last'),
    roi_head=dict(
        bbox_roi_extractor=dict(roi_layer=dict(sampling_ratio=2)),
        mask_roi_extractor=dict(roi_layer=dict(sampling_ratio=2))))

max_iters = 160000
lr_step = 120000
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=20000)
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
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=20000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
