# Copyright (c) mmpanet contributors. All rights reserved.
from .detector_ensemble import DetectorEnsemble
from .instance_seg_tta import (InstanceSegTTAModel, box_voting, mask_voting,
                               tight_boxes)

__all__ = [
    'DetectorEnsemble', 'InstanceSegTTAModel', 'box_voting', 'mask_voting',
    'tight_boxes'
]
