# RPN only, trained on its own (the paper's protocol, spec section 4: its
# backbone not shared with the detector): backbone, neck and RPN head of the
# detector, no RoI head; its metric is proposal recall. A config lists this
# file after the detector's config and applies it with
#     model = _base_.rpn_only_model
#     val_evaluator = _base_.rpn_only_evaluator
# tools/misc/dump_proposals.py writes the trained RPN's proposals, which the
# fixed-proposal configs (./fixed_proposals.py) train and test on.
rpn_only_model = dict(
    type='RPN',
    roi_head=None,
    train_cfg=dict(rpn_proposal=None, rcnn=None),
    test_cfg=dict(rcnn=None))
rpn_only_evaluator = dict(metric='proposal')
