# Copyright (c) mmpanet contributors. All rights reserved.
from .layers import AdaptiveFeatureFusion, FCModule, fuse
from .necks import PathAggregationFPN
from .roi_heads import (AFPConvFCBBoxHead, AFPFCNMaskHead,
                        AFPShared2FCBBoxHead, AFPShared4Conv1FCBBoxHead,
                        AllLevelRoIExtractor, FCFusionMaskHead)

__all__ = [
    'AdaptiveFeatureFusion', 'FCModule', 'fuse', 'PathAggregationFPN',
    'AllLevelRoIExtractor', 'AFPConvFCBBoxHead', 'AFPShared2FCBBoxHead',
    'AFPShared4Conv1FCBBoxHead', 'AFPFCNMaskHead', 'FCFusionMaskHead'
]
