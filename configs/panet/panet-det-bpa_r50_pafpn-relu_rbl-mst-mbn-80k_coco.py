# Detection-only twin of Table 3 row 5: row 4 + BPA.
_base_ = './faster-rcnn_r50_fpn_rbl-mst-mbn-80k_coco.py'

model = dict(
    neck=dict(type='PathAggregationFPN', bottom_up_norm_cfg=_base_.norm_cfg))
