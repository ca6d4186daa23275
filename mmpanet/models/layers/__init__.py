# Copyright (c) mmpanet contributors. All rights reserved.
from .adaptive_feature_fusion import AdaptiveFeatureFusion
from .cpu_sync_batchnorm import CPUSyncBatchNorm
from .fc_module import FCModule
from .fusion import FUSION_OPS, check_choice, fuse

__all__ = [
    'AdaptiveFeatureFusion', 'CPUSyncBatchNorm', 'FCModule', 'FUSION_OPS',
    'check_choice', 'fuse'
]
