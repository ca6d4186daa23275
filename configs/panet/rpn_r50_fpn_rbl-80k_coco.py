# The paper's separately trained RPN (spec section 4: trained on its own, its
# backbone not shared with the detector): the RPN of Table 3 row 2 (R-50-FPN
# at the RBL scales) alone, on the detection-only schedule. Its metric is
# proposal recall (AR@100/300/1000). tools/misc/dump_proposals.py writes its
# proposals for train2017 and val2017 (1000 per image, about 2.4 GB for
# train2017), which the *sep-rpn* configs train and test on.
_base_ = './faster-rcnn_r50_fpn_rbl-80k_coco.py'

model = dict(
    _delete_=True,
    type='RPN',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    rpn_head=_base_.model.rpn_head,
    train_cfg=dict(rpn=_base_.model.train_cfg.rpn),
    test_cfg=dict(rpn=_base_.model.test_cfg.rpn))
val_evaluator = dict(metric='proposal')
test_evaluator = val_evaluator
