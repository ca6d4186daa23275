# Copyright (c) mmpanet contributors. All rights reserved.
from .afp_fcn_mask_head import AFPFCNMaskHead
from .fc_fusion_mask_head import FCFusionMaskHead

__all__ = ['AFPFCNMaskHead', 'FCFusionMaskHead']
