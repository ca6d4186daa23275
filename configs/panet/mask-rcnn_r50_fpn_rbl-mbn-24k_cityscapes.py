# Table 9 row 2: Cityscapes Mask R-CNN + MBN (synchronized BN after every new
# layer, no frozen parameters), as Table 3 row 4 does on COCO.
_base_ = './mask-rcnn_r50_fpn_rbl-24k_cityscapes.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='NormedShared2FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))
