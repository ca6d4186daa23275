# mmdet's closest build of PANet, for benchmarks: mmdet's PAFPN neck, its
# GenericRoIExtractor (all levels, one shared pre-module, sum) and its
# Shared4Conv1FCBBoxHead, over Mask R-CNN R-50-FPN (Table 3 row 1). Not the
# paper's model (see ../panet/README.md).
_base_ = '../panet/mask-rcnn_r50_fpn_160k_coco.py'

strides = [4, 8, 16, 32]
model = dict(
    neck=dict(type='PAFPN'),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='GenericRoIExtractor',
            aggregation='sum',
            out_channels=256,
            featmap_strides=strides),
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256),
        mask_roi_extractor=dict(
            type='GenericRoIExtractor',
            aggregation='sum',
            out_channels=256,
            featmap_strides=strides)))
