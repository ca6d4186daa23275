# Table 6 row 3 (+ testing tricks): row 2's model tested with
# `tools/test.py CONFIG ROW2_CHECKPOINT --tta`: multi-scale testing (longer
# edge 1400; shorter edge 600, 800, 1000, 1200), horizontal flip, box
# voting (IoU >= 0.8, Detectron's default) and every view's mask head on the
# voted boxes, averaged (../_base_/instance_seg_tta.py), and the boxes
# tightened around the masks last, as the challenge entry submitted them.
# Trains nothing new.
_base_ = [
    './panet_r50-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-160k_coco.py',
    '../_base_/instance_seg_tta.py'
]

tta_model = dict(tta_cfg=dict(tighten_boxes=True))
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=(1400, s), keep_ratio=True)
                for s in (600, 800, 1000, 1200)
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
