# Table 4 "SUM": AFP fused after fc1 (conv1 in the mask head) by sum instead
# of max. Parent: Table 3 row 6.
_base_ = './panet-afp_r50_fpn_rbl-mst-mbn-160k_coco.py'

model = dict(
    roi_head=dict(bbox_head=dict(fusion='sum'), mask_head=dict(fusion='sum')))
