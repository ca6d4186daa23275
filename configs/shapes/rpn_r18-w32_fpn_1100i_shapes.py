# The RPN of the Mask R-CNN shapes baseline trained on its own (the paper's
# protocol, spec section 4): backbone, FPN and RPN head, no RoI head; its
# metric is proposal recall. tools/misc/dump_proposals.py writes its
# proposals (300 per image) for the *sep-rpn* shapes config.
_base_ = './mask-rcnn_r18-w32_fpn_1100i_shapes.py'

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
