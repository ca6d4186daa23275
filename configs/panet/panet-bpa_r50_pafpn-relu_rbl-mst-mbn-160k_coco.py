# Table 3 row 5: row 4 + bottom-up path augmentation (BPA, Sec. 3.1).
_base_ = './mask-rcnn_r50_fpn_rbl-mst-mbn-160k_coco.py'

model = dict(
    neck=dict(type='PathAggregationFPN', bottom_up_norm_cfg=_base_.norm_cfg))
