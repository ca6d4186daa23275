# Copyright (c) mmpanet contributors. All rights reserved.
from .detector_ensemble import DetectorEnsemble
from .instance_seg_tta import MERGE_DEFAULTS, InstanceSegTTAModel
from .merging import (MASK_HEURISTICS, SCORING_METHODS, box_voting,
                      mask_voting, merge_soft_masks, tight_boxes)

__all__ = [
    'DetectorEnsemble', 'InstanceSegTTAModel', 'MERGE_DEFAULTS',
    'MASK_HEURISTICS', 'SCORING_METHODS', 'box_voting', 'mask_voting',
    'merge_soft_masks', 'tight_boxes'
]
