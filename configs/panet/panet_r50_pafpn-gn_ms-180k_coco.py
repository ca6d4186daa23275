# Full PANet as the authors' released code builds, trains and tests it
# (ShuLiu1993/PANet: configs/panet/e2e_panet_R-50-FPN_2x_mask.yaml over the
# Detectron.pytorch defaults): the model their released mask checkpoint
# loads into after tools/model_converters/panet_authors_to_mmdet.py.
# Parent: Table 3 row 9 (the paper's choices). Over it:
# - Caffe-style ResNet-50 (stride on the first 1x1 conv), its AffineChannel
#   layers as frozen BN, conv1 and res2 frozen; BGR input, Detectron's pixel
#   means, no std;
# - GN(32) in the FPN and the heads (no bias before it), and in the
#   bottom-up path (after a conv that keeps its bias); none after the fc of
#   the 4conv1fc head; ReLU after the FF fc;
# - their RPN: Detectron's anchors (3 per location and level, sizes 32-512),
#   box coder (+1 pixel, weights 1 for the RPN and (10, 10, 5, 5) for the
#   boxes), proposals clipped to the padded input, 1000 per level before
#   NMS 0.7 and 1000 after at test (2000 / 2000 in training);
# - legacy RoIAlign (aligned=False; sampling ratio 2 comes from row 1);
# - test: shorter side 1000, longer at most 1400, resized as their code
#   resizes; boxes decoded, clipped and NMS'd (0.5, per class, +1 pixel
#   IoU) on the original image, score > 0.05, 100 per image; masks pasted
#   as their segm_results does; boxes reported as their COCO evaluator
#   reports them (their inclusive x2, y2 plus one pixel);
# - training: shorter side from {1200, 1200, 1000, 800, 600, 400} (longer
#   <= 1400) with flip, 2x schedule (180k iterations, x0.1 at 120k and
#   160k) with a 500-iteration warmup from 1/3, smooth-L1 box losses (beta
#   1/9 RPN, 1/3 boxes); anchors crossing the image are not trained.
# Losses are normalized as mmdet normalizes them.
_base_ = './panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'

gn = dict(type='GN', num_groups=32, requires_grad=True)
roi_align = dict(aligned=False)

# NMS per class (per level for the RPN) on the raw coordinates, with their +1
# pixel IoU: batched_nms's split path (split_thr=0) runs one NMS per label;
# class_agnostic=True skips the coordinate offsets it would add, which cost
# float32 precision
detectron_nms = dict(
    type='nms', iou_threshold=0.7, offset=1, class_agnostic=True, split_thr=0)

model = dict(
    data_preprocessor=dict(
        mean=[102.9801, 115.9465, 122.7717],
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False),
    backbone=dict(
        style='caffe',
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet50_caffe')),
    neck=dict(norm_cfg=gn, bottom_up_norm_cfg=gn, bottom_up_conv_bias=True),
    rpn_head=dict(
        type='DetectronRPNHead',
        anchor_generator=dict(type='DetectronAnchorGenerator'),
        bbox_coder=dict(_delete_=True, type='DetectronDeltaXYWHBBoxCoder'),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)),
    roi_head=dict(
        type='DetectronRoIHead',
        bbox_roi_extractor=dict(roi_layer=roi_align),
        bbox_head=dict(
            norm_cfg=gn,
            norm_fcs=False,
            decode_on_original_image=True,
            bbox_coder=dict(
                _delete_=True,
                type='DetectronDeltaXYWHBBoxCoder',
                weights=(10., 10., 5., 5.)),
            loss_bbox=dict(
                type='SmoothL1Loss', beta=1.0 / 3.0, loss_weight=1.0)),
        mask_roi_extractor=dict(roi_layer=roi_align),
        mask_head=dict(norm_cfg=gn, ff_fc_relu=True, mask_paste='detectron')),
    train_cfg=dict(
        rpn=dict(allowed_border=0),
        rpn_proposal=dict(
            nms_pre=2000,
            max_per_img=2000,
            nms=detectron_nms,
            min_bbox_size=-1)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=1000,
            max_per_img=1000,
            nms=detectron_nms,
            min_bbox_size=-1),
        rcnn=dict(
            score_thr=0.05,
            nms=dict(detectron_nms, iou_threshold=0.5),
            max_per_img=100,
            mask_thr_binary=0.5)))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1400, s) for s in (1200, 1200, 1000, 800, 600, 400)],
        resize_type='DetectronResize'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='DetectronResize', scale=(1400, 1000)),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 180000
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0 / 3,
        by_epoch=False,
        begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[120000, 160000],
        gamma=0.1)
]
