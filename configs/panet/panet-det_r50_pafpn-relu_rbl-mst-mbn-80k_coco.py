# Detection-only twin of Table 3 row 9 (full PANet without the mask branch,
# so without FF): row 7's twin + the heavier 4conv1fc box head (HHD).
_base_ = './panet-det-bpa-afp_r50_pafpn-relu_rbl-mst-mbn-80k_coco.py'

model = dict(roi_head=dict(bbox_head=dict(type='AFPShared4Conv1FCBBoxHead')))
