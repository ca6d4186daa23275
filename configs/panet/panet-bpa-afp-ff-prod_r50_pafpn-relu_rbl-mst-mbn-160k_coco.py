# Table 5 "PROD (conv3)": the FF map is fused with the class logits by
# prod instead of sum. Parent: Table 3 row 8 (conv3, sum).
_base_ = './panet-bpa-afp-ff_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(roi_head=dict(mask_head=dict(ff_fusion='prod')))
