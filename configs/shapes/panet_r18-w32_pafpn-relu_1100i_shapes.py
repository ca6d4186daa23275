# PANet on the built-in synthetic shapes data: the Mask R-CNN baseline beside
# it with every PANet component, configured as in the full model (paper
# defaults): PAFPN-ReLU neck (BPA), all-level RoI pooling with per-level
# first layers fused by max (AFP), the heavier 4conv1fc box head (HHD) and
# the fully-connected-fusion mask head from conv3 (FF).
_base_ = './mask-rcnn_r18-w32_fpn_1100i_shapes.py'

levels = [4, 8, 16, 32]
model = dict(
    neck=dict(type='PathAggregationFPN'),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        bbox_head=dict(
            type='AFPShared4Conv1FCBBoxHead',
            num_levels=len(levels),
            fusion='max',
            conv_out_channels=64),
        mask_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=len(levels),
            fusion='max',
            ff_after='conv3',
            ff_fusion='sum')))
