# Full PANet (Table 3 row 9) with ResNeXt-101 64x4d, the paper's headline
# backbone.
_base_ = './panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(
    backbone=dict(
        type='ResNeXt',
        depth=101,
        groups=64,
        base_width=4,
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnext101_64x4d')))
