# Table 3 row 8: row 7 + fully-connected fusion (FF, Sec. 3.3) in the mask
# head: short path from conv3, fc map added to every class's logits.
# Also Table 5's "conv3 (sum)" row.
_base_ = './panet-bpa-afp_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(
    roi_head=dict(
        mask_head=dict(
            type='FCFusionMaskHead', ff_after='conv3', ff_fusion='sum')))
