# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Optional, Tuple

import torch.nn as nn
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead
from mmdet.registry import MODELS
from torch import Tensor

from ...layers import AdaptiveFeatureFusion, FCModule, check_choice


@MODELS.register_module()
class AFPConvFCBBoxHead(ConvFCBBoxHead):
    """Box head with adaptive feature pooling (PANet Sec. 3.2, Fig. 6).

    The layout is mmdet's shared ``ConvFCBBoxHead`` (``num_shared_convs``
    3x3 convs, then ``num_shared_fcs`` fcs, then ``fc_cls``/``fc_reg``), with
    its FIRST layer (``conv1`` or ``fc1``) made per level: each of the
    ``num_levels`` RoI grids goes through its own copy (separate weights) and
    the outputs are fused by ``fusion``. Loss, targets and prediction are
    inherited from mmdet's ``BBoxHead``.

    Args:
        num_levels (int): Levels pooled by the RoI extractor (the number of
            its ``featmap_strides``). Defaults to 4.
        fusion (str): Element-wise fusion, 'max' (paper) or 'sum'.
        fuse_after (str, optional): Where the levels are fused: after the
            first layer ('fc1' or 'conv1', the paper's ``fc1fu.fc2``; the
            default) or right after RoIAlign ('roi_align', ``fu.fc1fc2``).
        norm_cfg (dict, optional): Norm after every conv AND fc (mmdet's
            heads put it on convs only). Defaults to None.
        **kwargs: Arguments of :class:`ConvFCBBoxHead`; only shared layers
            are supported (no separate cls/reg branches).

    Input: ``(num_rois, num_levels, C, H, W)`` from ``AllLevelRoIExtractor``
    (or ``(num_rois, C, H, W)`` when ``num_levels == 1``).
    """

    def __init__(self,
                 num_shared_convs: int = 0,
                 num_shared_fcs: int = 2,
                 num_levels: int = 4,
                 fusion: str = 'max',
                 fuse_after: Optional[str] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        for key in ('num_cls_convs', 'num_cls_fcs', 'num_reg_convs',
                    'num_reg_fcs'):
            if kwargs.get(key, 0):
                raise ValueError(
                    f'bbox_head.{key} must be 0: {type(self).__name__} has '
                    'shared layers only')
        if kwargs.get('with_avg_pool', False):
            raise ValueError('bbox_head.with_avg_pool must be False: the '
                             'per-level first layer takes the RoI grid')
        if num_shared_convs + num_shared_fcs < 1:
            raise ValueError('bbox_head needs at least one shared layer '
                             '(num_shared_convs + num_shared_fcs >= 1)')
        super().__init__(
            num_shared_convs=num_shared_convs,
            num_shared_fcs=num_shared_fcs,
            init_cfg=init_cfg,
            **kwargs)
        first_layer = 'conv1' if num_shared_convs else 'fc1'
        fuse_after = first_layer if fuse_after is None else fuse_after
        check_choice('bbox_head.fuse_after', fuse_after,
                     (first_layer, 'roi_align'))
        self.num_levels = num_levels
        self.fusion = fusion
        self.fuse_after = fuse_after

        # fcs with the head's norm and ReLU (mmdet's are bare nn.Linear)
        self.shared_fcs = nn.ModuleList(
            FCModule(fc.in_features, fc.out_features, norm_cfg=self.norm_cfg)
            for fc in self.shared_fcs)
        # the first layer becomes per level + fusion
        branch = self.shared_convs if num_shared_convs else self.shared_fcs
        branch[0] = AdaptiveFeatureFusion(
            branch[0],
            num_levels=num_levels,
            fusion=fusion,
            fuse_first=fuse_after == 'roi_align',
            owner='bbox_head')
        if init_cfg is None:
            # Xavier on every Linear first (as mmdet does for shared fcs; its
            # name-override form would also hit norm weights), then the
            # predictors' Normal init
            self.init_cfg = [
                dict(type='Xavier', distribution='uniform', layer='Linear'),
                dict(type='Normal', std=0.01, override=dict(name='fc_cls')),
                dict(type='Normal', std=0.001, override=dict(name='fc_reg'))
            ]

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """RoI grids -> ``cls_score (R, num_classes + 1)``, ``bbox_pred (R,
        4 * num_classes)`` (or class-agnostic 4)."""
        for conv in self.shared_convs:
            x = conv(x)
        for fc in self.shared_fcs:
            x = fc(x)
        x = x.flatten(1)
        cls_score = self.fc_cls(x) if self.with_cls else None
        bbox_pred = self.fc_reg(x) if self.with_reg else None
        return cls_score, bbox_pred


@MODELS.register_module()
class AFPShared2FCBBoxHead(AFPConvFCBBoxHead):
    """PANet's 2fc box head: per-level fc1, fusion, fc2 (Fig. 6)."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(
            num_shared_convs=0,
            num_shared_fcs=2,
            fc_out_channels=fc_out_channels,
            **kwargs)


@MODELS.register_module()
class AFPShared4Conv1FCBBoxHead(AFPConvFCBBoxHead):
    """PANet's heavier head (HHD, Sec. 4.2): per-level conv1, fusion, three
    shared 3x3 convs and one fc."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(
            num_shared_convs=4,
            num_shared_fcs=1,
            fc_out_channels=fc_out_channels,
            **kwargs)
