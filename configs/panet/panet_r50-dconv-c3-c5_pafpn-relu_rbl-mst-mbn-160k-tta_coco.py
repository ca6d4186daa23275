# Table 6 row 3 (+ testing tricks): row 2's model tested with
# `tools/test.py CONFIG ROW2_CHECKPOINT --tta`: multi-scale testing (longer
# edge 1400; shorter edge 600, 800, 1000, 1200), horizontal flip, mask
# voting, box voting (IoU >= 0.8, Detectron's default) and boxes tightened
# around the masks, as the challenge entry submitted them. Trains nothing new.
_base_ = [
    './panet_r50-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-160k_coco.py',
    '../_base_/instance_seg_tta.py'
]

tta_model = dict(tta_cfg=dict(tighten_boxes=True))
tta_pipeline = _base_.tta_pipeline
tta_pipeline[1]['transforms'][0] = [
    dict(type='Resize', scale=(1400, s), keep_ratio=True)
    for s in (600, 800, 1000, 1200)
]
