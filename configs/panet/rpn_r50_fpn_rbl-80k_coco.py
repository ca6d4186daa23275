# The paper's separately trained RPN (spec section 4: trained on its own, its
# backbone not shared with the detector): the RPN of Table 3 row 2 (R-50-FPN
# at the RBL scales) alone, on the detection-only schedule. Its metric is
# proposal recall (AR@100/300/1000). tools/misc/dump_proposals.py writes its
# proposals for train2017 and val2017 (1000 per image, about 2.4 GB for
# train2017), which the *sep-rpn* configs train and test on.
_base_ = ['./faster-rcnn_r50_fpn_rbl-80k_coco.py', '../_base_/rpn_only.py']

model = _base_.rpn_only_model
val_evaluator = _base_.rpn_only_evaluator
test_evaluator = val_evaluator
