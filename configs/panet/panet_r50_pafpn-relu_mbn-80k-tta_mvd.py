# Table 10 "with test tricks": the MVD model tested with --tta at the paper's
# scales (shorter edge 1600, 1800, 2000; longer edge 2400), each also
# flipped, with mask and box voting as Table 6's testing tricks.
_base_ = [
    './panet_r50_pafpn-relu_mbn-80k_mvd.py', '../_base_/instance_seg_tta.py'
]

tta_pipeline = _base_.tta_pipeline
tta_pipeline[1]['transforms'][0] = [
    dict(type='Resize', scale=(2400, s), keep_ratio=True)
    for s in (1600, 1800, 2000)
]
