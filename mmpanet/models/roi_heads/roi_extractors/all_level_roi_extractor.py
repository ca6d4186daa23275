# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Optional, Tuple

import torch
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from torch import Tensor

# mmcv's CPU RoIAlign kernel has no bfloat16; such features are pooled in fp32
_CPU_UNSUPPORTED_DTYPES = (torch.bfloat16, )


@MODELS.register_module()
class AllLevelRoIExtractor(SingleRoIExtractor):
    """Adaptive feature pooling, pooling step (PANet Sec. 3.2).

    Every RoI is pooled from EVERY input level with that level's RoI layer
    (plain FPN pools each RoI from one level chosen by its size). The grids
    are returned with RoIs on dimension 0, ``(num_rois, num_levels, C, H,
    W)``, so ``StandardRoIHead`` (including its shared-extractor path, which
    indexes positive RoIs) works unchanged; the AFP heads fuse the levels.

    Args:
        roi_layer (dict): RoI layer config, e.g. ``dict(type='RoIAlign',
            output_size=7, sampling_ratio=2, aligned=False)``.
        out_channels (int): Channels of the input levels.
        featmap_strides (list[int]): Strides of the input levels; their count
            is the number of levels pooled and must equal the heads'
            ``num_levels``.
        finest_scale (int): Not used for pooling; kept so that
            :meth:`map_roi_levels` (inherited) tells the level plain FPN
            would pick, for analysis (paper Fig. 3). Defaults to 56.
        init_cfg (dict, optional): Initialization config.
    """

    def forward(self,
                feats: Tuple[Tensor],
                rois: Tensor,
                roi_scale_factor: Optional[float] = None) -> Tensor:
        """Pool ``rois`` ``(n, 5)`` from each of ``feats`` ``(B, C, H_l,
        W_l)``.

        Returns:
            Tensor: ``(n, num_levels, C, *output_size)``, in the dtype of
            ``feats``; ``n == 0`` gives an empty tensor that still depends
            on every level (mmcv's RoIAlign keeps the graph).
        """
        if len(feats) != self.num_inputs:
            raise ValueError(
                f'{type(self).__name__} has {self.num_inputs} featmap_strides '
                f'but got {len(feats)} feature levels')
        if roi_scale_factor is not None:
            rois = self.roi_rescale(rois, roi_scale_factor)
        dtype = feats[0].dtype
        compute_dtype = dtype
        if feats[0].device.type == 'cpu' and dtype in _CPU_UNSUPPORTED_DTYPES:
            compute_dtype = torch.float32
        rois = rois.to(compute_dtype)
        pooled = [
            layer(f.to(compute_dtype), rois)
            for layer, f in zip(self.roi_layers, feats)
        ]
        return torch.stack(pooled, dim=1).to(dtype)
