# Test-time augmentation for instance segmentation (tools/test.py --tta):
# the paper's testing tricks (Table 6), merged as the authors' test code
# (Detectron's BBOX_AUG / MASK_AUG) merges them: every view's raw boxes
# pooled before NMS, one NMS, box voting (IoU >= 0.8, scores kept:
# Detectron's VOTE_TH and SCORING_METHOD 'ID'), then the mask head of every
# view on the final boxes, soft masks averaged (SOFT_AVG) and pasted once.
# Views: every scale of the first list, each also flipped. A config that
# uses it lists this file among its bases; one tested at other scales
# writes its tta_pipeline whole with them.
tta_model = dict(
    type='InstanceSegTTAModel',
    tta_cfg=dict(
        merge='detectron',
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100,
        box_voting=dict(iou_thr=0.8, scoring='ID'),
        mask_heuristic='SOFT_AVG'))
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
