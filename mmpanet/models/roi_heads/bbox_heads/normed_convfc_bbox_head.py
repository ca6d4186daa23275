# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Optional, Tuple, Union

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead
from mmdet.registry import MODELS
from torch import Tensor

from ...layers import FCModule


@MODELS.register_module()
class NormedConvFCBBoxHead(ConvFCBBoxHead):
    """mmdet's shared ``ConvFCBBoxHead`` whose fcs take a norm too.

    ``num_shared_convs`` 3x3 convs (``ConvModule``, ``norm_cfg``), then
    ``num_shared_fcs`` fcs (``FCModule``: linear, ``norm_cfg`` when
    ``norm_fcs``, ReLU), then ``fc_cls`` / ``fc_reg``. mmdet's heads put
    ``norm_cfg`` on their convs only; the paper's MBN (Sec. 4, Table 3 row
    4) puts synchronized BN after every new layer, fcs included. The layers
    are built by mmdet's extension point ``_add_conv_fc_branch``; loss,
    targets and prediction are mmdet's ``BBoxHead``.

    Args:
        norm_fcs (bool): Put ``norm_cfg`` after every fc as well. Defaults
            to True.
        fc_bias (bool | str): Bias of the fcs; 'auto' means none when a norm
            follows (mmcv's ``ConvModule`` rule). Defaults to 'auto'.
        **kwargs: Arguments of :class:`ConvFCBBoxHead`; only shared layers
            (no separate cls/reg branches), no average pooling.

    Input: RoI grids ``(num_rois, C, H, W)``; output: ``cls_score
    (num_rois, num_classes + 1)``, ``bbox_pred (num_rois, 4 *
    num_classes)`` (4 when class-agnostic).
    """

    def __init__(self,
                 num_shared_convs: int = 0,
                 num_shared_fcs: int = 2,
                 norm_fcs: bool = True,
                 fc_bias: Union[bool, str] = 'auto',
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        for key in ('num_cls_convs', 'num_cls_fcs', 'num_reg_convs',
                    'num_reg_fcs'):
            if kwargs.get(key, 0):
                raise ValueError(
                    f'bbox_head.{key} must be 0: {type(self).__name__} has '
                    'shared layers only')
        if kwargs.get('with_avg_pool', False):
            raise ValueError('bbox_head.with_avg_pool must be False')
        if num_shared_convs + num_shared_fcs < 1:
            raise ValueError('bbox_head needs at least one shared layer '
                             '(num_shared_convs + num_shared_fcs >= 1)')
        # read by _add_conv_fc_branch, which ConvFCBBoxHead.__init__ calls
        self.norm_fcs = norm_fcs
        self.fc_bias = fc_bias
        super().__init__(
            num_shared_convs=num_shared_convs,
            num_shared_fcs=num_shared_fcs,
            init_cfg=init_cfg,
            **kwargs)
        if init_cfg is None:
            # Xavier on every Linear (mmdet's name-override form would also
            # hit the norms inside the fcs), then the predictors' Normal
            self.init_cfg = [
                dict(type='Xavier', distribution='uniform', layer='Linear'),
                dict(type='Normal', std=0.01, override=dict(name='fc_cls')),
                dict(type='Normal', std=0.001, override=dict(name='fc_reg'))
            ]

    def _add_conv_fc_branch(self,
                            num_branch_convs: int,
                            num_branch_fcs: int,
                            in_channels: int,
                            is_shared: bool = False) -> tuple:
        """convs (``ConvModule``) -> fcs (``FCModule`` with norm and ReLU);
        returns ``(convs, fcs, output dim)`` as mmdet's method does."""
        dim = in_channels
        convs = nn.ModuleList()
        for i in range(num_branch_convs):
            convs.append(
                ConvModule(
                    dim if i == 0 else self.conv_out_channels,
                    self.conv_out_channels,
                    3,
                    padding=1,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg))
        if num_branch_convs:
            dim = self.conv_out_channels
        fcs = nn.ModuleList()
        if num_branch_fcs:
            dim *= self.roi_feat_area
        for i in range(num_branch_fcs):
            fcs.append(
                FCModule(
                    dim if i == 0 else self.fc_out_channels,
                    self.fc_out_channels,
                    norm_cfg=self.norm_cfg if self.norm_fcs else None,
                    bias=self.fc_bias))
        if num_branch_fcs:
            dim = self.fc_out_channels
        return convs, fcs, dim

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """RoI grids -> ``cls_score``, ``bbox_pred``."""
        for conv in self.shared_convs:
            x = conv(x)
        for fc in self.shared_fcs:
            x = fc(x)  # flattens its input; norm and ReLU inside
        x = x.flatten(1)
        cls_score = self.fc_cls(x) if self.with_cls else None
        bbox_pred = self.fc_reg(x) if self.with_reg else None
        return cls_score, bbox_pred


@MODELS.register_module()
class NormedShared2FCBBoxHead(NormedConvFCBBoxHead):
    """mmdet's ``Shared2FCBBoxHead`` with ``norm_cfg`` after both fcs (the
    box head of the paper's MBN rows, Table 3 row 4)."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(
            num_shared_convs=0,
            num_shared_fcs=2,
            fc_out_channels=fc_out_channels,
            **kwargs)
