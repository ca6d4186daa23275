# Copyright (c) mmpanet contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
from mmcv.ops import RoIAlign
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from torch import Tensor

from ...layers import multi_level_roi_align
from ...utils import check_choice

IMPLEMENTATIONS = ('auto', 'mmcv', 'gather')

# bf16 features are pooled in fp32 on CPU: mmcv's CPU kernel has no bf16, and
# the gather's sums would err by a few percent in bf16
_CPU_FP32_DTYPES = (torch.bfloat16, )


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
        implementation (str): ``'mmcv'``: one call of the RoI layer per
            level. ``'gather'``: every level in one weighted gather
            (:func:`multi_level_roi_align`), the same arithmetic as mmcv's
            RoIAlign; it needs ``type='RoIAlign'`` with ``pool_mode='avg'``
            and a fixed ``sampling_ratio > 0``; on CPU it is 5-14x faster
            at COCO sizes (forward and backward use every core; mmcv's CPU
            kernel runs on one). ``'auto'``: ``'gather'`` for features on
            CPU where the RoI layer allows it, ``'mmcv'`` otherwise (its
            CUDA kernel). Defaults to ``'auto'``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 roi_layer: ConfigType,
                 out_channels: int,
                 featmap_strides: List[int],
                 finest_scale: int = 56,
                 implementation: str = 'auto',
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            roi_layer=roi_layer,
            out_channels=out_channels,
            featmap_strides=featmap_strides,
            finest_scale=finest_scale,
            init_cfg=init_cfg)
        check_choice('implementation', implementation, IMPLEMENTATIONS)
        layer = self.roi_layers[0]
        self.gather_allowed = (
            isinstance(layer, RoIAlign) and layer.pool_mode == 'avg'
            and layer.sampling_ratio > 0 and not layer.use_torchvision)
        if implementation == 'gather' and not self.gather_allowed:
            raise ValueError("implementation='gather' needs roi_layer="
                             "dict(type='RoIAlign', pool_mode='avg', "
                             'sampling_ratio=N) with N > 0, got '
                             f'{roi_layer}')
        self.implementation = implementation

    def uses_gather(self, device: torch.device) -> bool:
        """Whether features on ``device`` are pooled by the gather."""
        if self.implementation == 'auto':
            return self.gather_allowed and device.type == 'cpu'
        return self.implementation == 'gather'

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
        if feats[0].device.type == 'cpu' and dtype in _CPU_FP32_DTYPES:
            compute_dtype = torch.float32
        if self.uses_gather(feats[0].device):
            layer = self.roi_layers[0]
            return multi_level_roi_align(
                feats, rois, layer.output_size,
                [lay.spatial_scale for lay in self.roi_layers],
                layer.sampling_ratio, layer.aligned, compute_dtype).to(dtype)
        rois = rois.to(compute_dtype)
        feats = [f.to(compute_dtype) for f in feats]
        pooled = [layer(f, rois) for layer, f in zip(self.roi_layers, feats)]
        return torch.stack(pooled, dim=1).to(dtype)
