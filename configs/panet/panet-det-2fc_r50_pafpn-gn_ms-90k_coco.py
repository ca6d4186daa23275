# The authors' released detection-only PANet with the 2fc box head
# (ShuLiu1993/PANet: configs/panet/e2e_panet_R-50-FPN_1x_det_2fc.yaml): per
# level fc1, then fc2, each a linear layer with its bias, GN(32) and ReLU.
# Parent: the authors' 4conv1fc detection config.
_base_ = './panet-det_r50_pafpn-gn_ms-90k_coco.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='AFPShared2FCBBoxHead', norm_fcs=True, fc_bias=True)))
