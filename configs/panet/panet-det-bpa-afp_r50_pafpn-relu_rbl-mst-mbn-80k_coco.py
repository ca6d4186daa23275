# Detection-only twin of Table 3 row 7: row 4 + BPA + AFP.
_base_ = './panet-det-afp_r50_fpn_rbl-mst-mbn-80k_coco.py'

model = dict(
    neck=dict(type='PathAggregationFPN', bottom_up_norm_cfg=_base_.norm_cfg))
