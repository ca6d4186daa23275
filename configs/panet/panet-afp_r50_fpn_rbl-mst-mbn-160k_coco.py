# Table 3 row 6: row 4 + adaptive feature pooling (AFP, Sec. 3.2): every RoI
# pooled from every level, per-level fc1 (box) / conv1 (mask), max fusion.
_base_ = './mask-rcnn_r50_fpn_rbl-mst-mbn-160k_coco.py'

levels = [4, 8, 16, 32]
model = dict(
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        bbox_head=dict(
            type='AFPShared2FCBBoxHead', num_levels=len(levels), fusion='max'),
        mask_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        mask_head=dict(
            type='AFPFCNMaskHead', num_levels=len(levels), fusion='max')))
