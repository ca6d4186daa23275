# Table 5 "conv2 (sum)": the FF path starts from conv2 instead of conv3.
# Parent: Table 3 row 8 (conv3, sum).
_base_ = './panet-bpa-afp-ff_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(roi_head=dict(mask_head=dict(ff_after='conv2')))
