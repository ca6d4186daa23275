# The RPN of the Mask R-CNN shapes baseline trained on its own (the paper's
# protocol, spec section 4): backbone, FPN and RPN head, no RoI head; its
# metric is proposal recall. tools/misc/dump_proposals.py writes its
# proposals (300 per image) for the *sep-rpn* shapes config.
_base_ = ['./mask-rcnn_r18-w32_fpn_1100i_shapes.py', '../_base_/rpn_only.py']

model = _base_.rpn_only_model
val_evaluator = _base_.rpn_only_evaluator
test_evaluator = val_evaluator
