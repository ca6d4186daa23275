# Copyright (c) mmpanet contributors. All rights reserved.
from .afp_convfc_bbox_head import (AFPConvFCBBoxHead, AFPShared2FCBBoxHead,
                                   AFPShared4Conv1FCBBoxHead)
from .normed_convfc_bbox_head import (NormedConvFCBBoxHead,
                                      NormedShared2FCBBoxHead)

__all__ = [
    'AFPConvFCBBoxHead', 'AFPShared2FCBBoxHead', 'AFPShared4Conv1FCBBoxHead',
    'NormedConvFCBBoxHead', 'NormedShared2FCBBoxHead'
]
