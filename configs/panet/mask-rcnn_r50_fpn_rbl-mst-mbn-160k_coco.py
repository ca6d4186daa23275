# Table 3 row 4: RBL + MST + MBN: synchronized BN after every new layer (FPN
# convs, box head fcs, mask head convs) and no frozen parameters (backbone
# BN trained, no frozen stages). NormedShared2FCBBoxHead is mmdet's
# Shared2FCBBoxHead whose fcs take norm_cfg. mmdet's RPNHead has no norm
# option; its single conv stays without BN.
_base_ = './mask-rcnn_r50_fpn_rbl-mst-160k_coco.py'

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='NormedShared2FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))
