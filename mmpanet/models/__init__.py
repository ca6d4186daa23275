# Copyright (c) mmpanet contributors. All rights reserved.
from .data_preprocessors import MemoryFormatDetDataPreprocessor
from .dense_heads import DetectronRPNHead
from .layers import (FUSION_OPS, AdaptiveFeatureFusion, FCModule,
                     PerLevelLayers, fuse)
from .necks import PathAggregationFPN
from .roi_heads import (AFPConvFCBBoxHead, AFPFCNMaskHead,
                        AFPShared2FCBBoxHead, AFPShared4Conv1FCBBoxHead,
                        AllLevelRoIExtractor, DetectronRoIHead,
                        FCFusionMaskHead, NormedConvFCBBoxHead,
                        NormedShared2FCBBoxHead)
from .task_modules import DetectronAnchorGenerator, DetectronDeltaXYWHBBoxCoder
from .test_time_augs import InstanceSegTTAModel

__all__ = [
    'FUSION_OPS', 'AdaptiveFeatureFusion', 'FCModule', 'PerLevelLayers',
    'fuse', 'PathAggregationFPN', 'AllLevelRoIExtractor', 'AFPConvFCBBoxHead',
    'AFPShared2FCBBoxHead', 'AFPShared4Conv1FCBBoxHead',
    'NormedConvFCBBoxHead', 'NormedShared2FCBBoxHead', 'AFPFCNMaskHead',
    'FCFusionMaskHead', 'DetectronRoIHead', 'DetectronRPNHead',
    'DetectronAnchorGenerator', 'DetectronDeltaXYWHBBoxCoder',
    'MemoryFormatDetDataPreprocessor', 'InstanceSegTTAModel'
]
