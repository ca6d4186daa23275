# Copyright (c) mmpanet contributors. All rights reserved.
from .bbox_heads import (AFPConvFCBBoxHead, AFPShared2FCBBoxHead,
                         AFPShared4Conv1FCBBoxHead, NormedConvFCBBoxHead,
                         NormedShared2FCBBoxHead)
from .detectron_roi_head import DetectronRoIHead
from .mask_heads import AFPFCNMaskHead, FCFusionMaskHead
from .roi_extractors import AllLevelRoIExtractor

__all__ = [
    'AllLevelRoIExtractor', 'AFPConvFCBBoxHead', 'AFPShared2FCBBoxHead',
    'AFPShared4Conv1FCBBoxHead', 'NormedConvFCBBoxHead',
    'NormedShared2FCBBoxHead', 'AFPFCNMaskHead', 'FCFusionMaskHead',
    'DetectronRoIHead'
]
