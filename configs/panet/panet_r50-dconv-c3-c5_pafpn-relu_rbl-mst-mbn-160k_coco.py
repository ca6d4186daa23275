# Table 6 row 2 (+ DCN): full PANet (row 1, Table 3 row 9) with deformable
# convolutions (mmcv's DCN) in the 3x3 convs of the backbone's stages c3-c5,
# as mmdet's dconv-c3-c5 models (the paper does not say which stages).
# Contiguous batches: mmcv's deformable convolution takes no channels-last
# input.
_base_ = './panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

model = dict(
    data_preprocessor=dict(memory_format='contiguous'),
    backbone=dict(
        dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))
