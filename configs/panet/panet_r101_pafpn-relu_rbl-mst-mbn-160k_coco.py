# Full PANet (Table 3 row 9) with a ResNet-101 backbone.
_base_ = './panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
