# PANet on the built-in synthetic shapes data: the Mask R-CNN baseline beside
# it with every PANet component, configured as in the full model (paper
# defaults): PAFPN-ReLU neck (BPA), all-level RoI pooling with per-level
# first layers fused by max (AFP), the heavier 4conv1fc box head (HHD) and
# the fully-connected-fusion mask head from conv3 (FF).
#
# Also the settings measured to train fastest on a 2-core CPU at the same AP
# (docs/en/user_guides/main_job.md): bf16 autocast (CPUAmpOptimWrapper; on a
# GPU use mmengine's AmpOptimWrapper), channels-last batches, the per-level
# first convs run as a loop (faster than one grouped conv in bf16 training),
# 200 RPN proposals per level before NMS in training and torch's fused SGD
# step (the same update in one kernel). The baseline keeps fp32: in bf16 its
# 2fc box head did not learn (box AP 0.000 in one run).
_base_ = [
    './mask-rcnn_r18-w32_fpn_1100i_shapes.py', '../_base_/instance_seg_tta.py'
]

levels = [4, 8, 16, 32]
model = dict(
    data_preprocessor=dict(
        type='MemoryFormatDetDataPreprocessor', memory_format='channels_last'),
    neck=dict(type='PathAggregationFPN'),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        bbox_head=dict(
            type='AFPShared4Conv1FCBBoxHead',
            num_levels=len(levels),
            fusion='max',
            grouped_conv=False,
            conv_out_channels=64),
        mask_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=len(levels),
            fusion='max',
            grouped_conv=False,
            ff_after='conv3',
            ff_fusion='sum')),
    train_cfg=dict(rpn_proposal=dict(nms_pre=200, max_per_img=200)))
# NMS has an fp32 kernel only: the RPN head's outputs go back to fp32 (its
# convs still run in bf16); AllLevelRoIExtractor pools bf16 features itself
optim_wrapper = dict(
    type='CPUAmpOptimWrapper',
    fp32_outputs=('rpn_head', ),
    optimizer=dict(fused=True))

# Test-time augmentation (tools/test.py --tta; ../_base_/instance_seg_tta.py:
# the authors' merge with box voting) at this data's scale: 4 scales at
# 0.75x to 1.5x the training size (as 600 to 1200 around COCO's 800), each
# flipped
tta_model = dict(tta_cfg=dict(max_per_img=50))
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=(s, s), keep_ratio=True)
                for s in (192, 256, 320, 384)
            ],
            [
                dict(type='RandomFlip', prob=1.),
                dict(type='RandomFlip', prob=0.)
            ],
            [dict(type='LoadAnnotations', with_bbox=True, with_mask=True)],
            [
                dict(
                    type='PackDetInputs',
                    meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                               'scale_factor', 'flip', 'flip_direction'))
            ],
        ])
]
