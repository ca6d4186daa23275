# Table 10 "with test tricks": the MVD model tested with --tta at the paper's
# scales (shorter edge 1600, 1800, 2000; longer edge 2400), each also
# flipped, merged as Table 6's testing tricks (../_base_/instance_seg_tta.py).
_base_ = [
    './panet_r50_pafpn-relu_mbn-80k_mvd.py', '../_base_/instance_seg_tta.py'
]

tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=(2400, s), keep_ratio=True)
                for s in (1600, 1800, 2000)
            ],
            [
                dict(type='RandomFlip', prob=1.),
                dict(type='RandomFlip', prob=0.)
            ],
            [dict(type='LoadAnnotations', with_bbox=True, with_mask=True)],
            [
                dict(
                    type='PackDetInputs',
                    meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                               'scale_factor', 'flip', 'flip_direction'))
            ],
        ])
]
