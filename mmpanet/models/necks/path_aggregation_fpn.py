# Copyright (c) mmpanet contributors. All rights reserved.
from typing import List, Tuple, Union

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType
from torch import Tensor


@MODELS.register_module()
class PathAggregationFPN(FPN):
    r"""FPN followed by bottom-up path augmentation (PANet Sec. 3.1, Fig. 2).

    After FPN's top-down path gives :math:`P_2 \dots P_5`, the bottom-up path
    builds

    .. math::
        N_2 = P_2, \qquad
        N_{i+1} = \mathrm{conv}_b\big(\mathrm{conv}_a(N_i) + P_{i+1}\big)

    where ``conv_a`` is a 3x3 stride-2 conv (``downsample_convs``) and
    ``conv_b`` a 3x3 conv (``bottom_up_convs``), each followed by ReLU (and an
    optional norm). The recursion feeds :math:`N_i` itself, the output of the
    previous ``conv_b``, into the next ``conv_a``; mmdet's ``PAFPN`` feeds the
    pre-conv sum instead and has no activation by default.

    The lateral and output convs keep FPN's own ``norm_cfg``/``act_cfg``.
    Extra levels (``num_outs`` beyond the backbone levels) are made as in
    FPN, from :math:`N_5`: max-pool by default, or convs with
    ``add_extra_convs``.

    Args:
        bottom_up_norm_cfg (dict, optional): Norm after every bottom-up conv,
            e.g. ``dict(type='GN', num_groups=32)`` (official code) or
            ``dict(type='SyncBN')``. Defaults to None (paper).
        bottom_up_act_cfg (dict, optional): Activation after every bottom-up
            conv. Defaults to ReLU (paper).
        bottom_up_conv_bias (bool | str): Bias of the bottom-up convs;
            'auto' (mmcv's ``ConvModule`` rule: none when a norm follows) or
            True (the authors' code keeps a bias before its GN). Defaults to
            'auto'.
        **kwargs: Arguments of :class:`mmdet.models.necks.FPN`.

    Shapes: ``inputs[i]`` is ``(B, in_channels[i], H_i, W_i)``; each output is
    ``(B, out_channels, H_i, W_i)``, ``num_outs`` of them.
    """

    def __init__(self,
                 in_channels: List[int],
                 out_channels: int,
                 num_outs: int,
                 bottom_up_norm_cfg: OptConfigType = None,
                 bottom_up_act_cfg: OptConfigType = dict(type='ReLU'),
                 bottom_up_conv_bias: Union[bool, str] = 'auto',
                 **kwargs) -> None:
        super().__init__(in_channels, out_channels, num_outs, **kwargs)
        num_levels = self.backbone_end_level - self.start_level

        def bottom_up_conv(stride: int) -> ConvModule:
            return ConvModule(
                out_channels,
                out_channels,
                3,
                stride=stride,
                padding=1,
                conv_cfg=kwargs.get('conv_cfg'),
                norm_cfg=bottom_up_norm_cfg,
                act_cfg=bottom_up_act_cfg,
                bias=bottom_up_conv_bias,
                inplace=False)

        self.downsample_convs = nn.ModuleList(
            bottom_up_conv(2) for _ in range(num_levels - 1))
        self.bottom_up_convs = nn.ModuleList(
            bottom_up_conv(1) for _ in range(num_levels - 1))

    def top_down(self, inputs: Tuple[Tensor]) -> Tuple[list, list]:
        """FPN's lateral convs and top-down path: laterals and P levels."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(
                f'{type(self).__name__} got {len(inputs)} feature maps, but '
                f'in_channels lists {len(self.in_channels)}')
        laterals = [
            conv(inputs[i + self.start_level])
            for i, conv in enumerate(self.lateral_convs)
        ]
        for i in range(len(laterals) - 1, 0, -1):
            if 'scale_factor' in self.upsample_cfg:
                up = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                up = F.interpolate(
                    laterals[i],
                    size=laterals[i - 1].shape[2:],
                    **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + up
        p_levels = [
            self.fpn_convs[i](lateral) for i, lateral in enumerate(laterals)
        ]
        return laterals, p_levels

    def bottom_up(self, p_levels: List[Tensor]) -> List[Tensor]:
        """Bottom-up path augmentation: P levels -> N levels."""
        n_levels = [p_levels[0]]
        for down, conv, p_next in zip(self.downsample_convs,
                                      self.bottom_up_convs, p_levels[1:]):
            n_levels.append(conv(down(n_levels[-1]) + p_next))
        return n_levels

    def extra_levels(self, inputs: Tuple[Tensor], laterals: List[Tensor],
                     outs: List[Tensor]) -> List[Tensor]:
        """Levels beyond the backbone's, made as FPN makes them, from N5."""
        used = len(outs)
        extra = []
        if self.num_outs <= used:
            return extra
        if not self.add_extra_convs:
            for _ in range(self.num_outs - used):
                extra.append(F.max_pool2d((outs + extra)[-1], 1, stride=2))
            return extra
        source = {
            'on_input': lambda: inputs[self.backbone_end_level - 1],
            'on_lateral': lambda: laterals[-1],
            'on_output': lambda: outs[-1],
        }[self.add_extra_convs]()
        extra.append(self.fpn_convs[used](source))
        for conv in self.fpn_convs[used + 1:]:
            x = extra[-1]
            extra.append(
                conv(F.relu(x) if self.relu_before_extra_convs else x))
        return extra

    def forward(self, inputs: Tuple[Tensor]) -> tuple:
        """Multi-level backbone features -> ``num_outs`` PANet levels."""
        laterals, p_levels = self.top_down(inputs)
        outs = self.bottom_up(p_levels)
        return tuple(outs + self.extra_levels(inputs, laterals, outs))
