# Copyright (c) mmpanet contributors. All rights reserved.
from .bbox_heads import (AFPConvFCBBoxHead, AFPShared2FCBBoxHead,
                         AFPShared4Conv1FCBBoxHead)
from .mask_heads import AFPFCNMaskHead, FCFusionMaskHead
from .roi_extractors import AllLevelRoIExtractor

__all__ = [
    'AllLevelRoIExtractor', 'AFPConvFCBBoxHead', 'AFPShared2FCBBoxHead',
    'AFPShared4Conv1FCBBoxHead', 'AFPFCNMaskHead', 'FCFusionMaskHead'
]
