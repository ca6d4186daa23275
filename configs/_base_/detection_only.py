# Detection only: the detector without its mask branch, scored on boxes (the
# paper's APbb columns come from such twins of the mask rows). A config
# lists this file after its mask config, applies it with
#     model = _base_.detection_only_model
#     val_evaluator = _base_.detection_only_evaluator
# and writes its pipelines whole with LoadAnnotations(with_mask=False).
detection_only_model = dict(
    type='FasterRCNN', roi_head=dict(mask_roi_extractor=None, mask_head=None))
detection_only_evaluator = dict(metric='bbox')
