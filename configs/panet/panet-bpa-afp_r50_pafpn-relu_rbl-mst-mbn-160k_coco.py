# Table 3 row 7: row 4 + BPA + AFP, i.e. row 6 (AFP) + the BPA neck of row 5.
# Baseline of Table 5.
_base_ = './panet-afp_r50_fpn_rbl-mst-mbn-160k_coco.py'

model = dict(
    neck=dict(type='PathAggregationFPN', bottom_up_norm_cfg=_base_.norm_cfg))
