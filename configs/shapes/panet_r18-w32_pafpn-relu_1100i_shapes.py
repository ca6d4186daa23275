# PANet on the built-in synthetic shapes data: the Mask R-CNN baseline beside
# it with every PANet component, configured as in the full model (paper
# defaults): PAFPN-ReLU neck (BPA), all-level RoI pooling with per-level
# first layers fused by max (AFP), the heavier 4conv1fc box head (HHD) and
# the fully-connected-fusion mask head from conv3 (FF). For CPU speed, both
# extractors pool all levels in one gather (same values as mmcv's RoIAlign)
# and the per-level first convs run in a loop (faster than one grouped conv
# in bf16 training).
_base_ = './mask-rcnn_r18-w32_fpn_1100i_shapes.py'

levels = [4, 8, 16, 32]
model = dict(
    neck=dict(type='PathAggregationFPN'),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AllLevelRoIExtractor',
            featmap_strides=levels,
            implementation='gather'),
        bbox_head=dict(
            type='AFPShared4Conv1FCBBoxHead',
            num_levels=len(levels),
            fusion='max',
            grouped_conv=False,
            conv_out_channels=64),
        mask_roi_extractor=dict(
            type='AllLevelRoIExtractor',
            featmap_strides=levels,
            implementation='gather'),
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=len(levels),
            fusion='max',
            grouped_conv=False,
            ff_after='conv3',
            ff_fusion='sum')))
