# Table 9 row 3: PANet on Cityscapes: row 2 + BPA + AFP + FF + HHD, as full
# PANet (Table 3 row 9) on COCO.
_base_ = './mask-rcnn_r50_fpn_rbl-mbn-24k_cityscapes.py'

levels = [4, 8, 16, 32]
model = dict(
    neck=dict(type='PathAggregationFPN', bottom_up_norm_cfg=_base_.norm_cfg),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        bbox_head=dict(
            type='AFPShared4Conv1FCBBoxHead',
            num_levels=len(levels),
            fusion='max'),
        mask_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        mask_head=dict(
            type='FCFusionMaskHead',
            num_levels=len(levels),
            fusion='max',
            ff_after='conv3',
            ff_fusion='sum')))
