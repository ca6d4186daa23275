# Table 6 row 4 (+ larger model): row 3 with ResNeXt-101 64x4d (DCN in
# c3-c5 kept). Train it, then test with --tta.
_base_ = './panet_r50-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-160k-tta_coco.py'

model = dict(
    backbone=dict(
        type='ResNeXt',
        depth=101,
        groups=64,
        base_width=4,
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnext101_64x4d')))
