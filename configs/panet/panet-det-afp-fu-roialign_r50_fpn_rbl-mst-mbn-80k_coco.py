# Detection-only twin of Table 4 "fu.fc1fc2" (APbb columns).
_base_ = './panet-det-afp_r50_fpn_rbl-mst-mbn-80k_coco.py'

model = dict(roi_head=dict(bbox_head=dict(fuse_after='roi_align')))
