# Detection-only twin of Table 3 row 4: RBL + MST + MBN. Baseline of
# Table 4's APbb columns.
_base_ = './faster-rcnn_r50_fpn_rbl-mst-80k_coco.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='NormedShared2FCBBoxHead', norm_cfg=norm_cfg)))
