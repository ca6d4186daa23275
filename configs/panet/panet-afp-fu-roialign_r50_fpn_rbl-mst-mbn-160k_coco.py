# Table 4 "fu.fc1fc2": AFP fusing the levels right after RoIAlign, before any
# parameter layer (box and mask heads). Parent: Table 3 row 6.
_base_ = './panet-afp_r50_fpn_rbl-mst-mbn-160k_coco.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(fuse_after='roi_align'),
        mask_head=dict(fuse_after='roi_align')))
