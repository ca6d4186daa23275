# Detection-only twin of Table 3 row 6: row 4 + AFP (per-level fc1, max).
# Also Table 4's "fc1fu.fc2 (max)" APbb row.
_base_ = './faster-rcnn_r50_fpn_rbl-mst-mbn-80k_coco.py'

levels = [4, 8, 16, 32]
model = dict(
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='AllLevelRoIExtractor', featmap_strides=levels),
        bbox_head=dict(
            type='AFPShared2FCBBoxHead', num_levels=len(levels),
            fusion='max')))
