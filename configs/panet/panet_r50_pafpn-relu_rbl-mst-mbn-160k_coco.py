# Table 3 row 9: full PANet = row 8 + the heavier box head (HHD, Sec. 4.2):
# per-level conv1, max fusion, three shared 3x3 convs and one fc.
_base_ = './panet-bpa-afp-ff_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(roi_head=dict(bbox_head=dict(type='AFPShared4Conv1FCBBoxHead')))
