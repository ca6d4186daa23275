# Copyright (c) mmpanet contributors. All rights reserved.
from .adaptive_feature_fusion import AdaptiveFeatureFusion
from .fc_module import FCModule
from .fusion import FUSION_OPS, fuse
from .multi_level_roi_align import multi_level_roi_align
from .per_level_layers import PerLevelLayers, fresh_copy

__all__ = [
    'AdaptiveFeatureFusion', 'FCModule', 'FUSION_OPS', 'PerLevelLayers',
    'fresh_copy', 'fuse', 'multi_level_roi_align'
]
