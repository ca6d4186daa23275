# Test-time augmentation for instance segmentation (tools/test.py --tta):
# the paper's testing tricks (Table 6): every scale of the first list, each
# also flipped; mask voting and box voting (IoU >= 0.8, Detectron's
# default). A config that uses it lists this file among its bases; one
# tested at other scales writes its tta_pipeline whole with them.
tta_model = dict(
    type='InstanceSegTTAModel',
    tta_cfg=dict(
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100,
        mask_voting=True,
        box_voting_iou_thr=0.8))
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(1333, 800), keep_ratio=True)],
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
