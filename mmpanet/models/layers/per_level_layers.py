# Copyright (c) mmpanet contributors. All rights reserved.
import copy
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor


def fresh_copy(template: nn.Module) -> nn.Module:
    """A deep copy of ``template`` with its parameters initialized anew
    (torch's ``reset_parameters``, then the module's own ``init_weights``,
    e.g. ``ConvModule``'s Kaiming init)."""
    layer = copy.deepcopy(template)
    for m in layer.modules():
        if hasattr(m, 'reset_parameters'):
            m.reset_parameters()
    if hasattr(layer, 'init_weights'):
        layer.init_weights()
    return layer


def _groupable(layer: nn.Module) -> bool:
    """Whether copies of ``layer`` can run as one grouped convolution."""
    return (isinstance(layer, ConvModule)
            and layer.order == ('conv', 'norm', 'act')
            and not layer.with_explicit_padding
            and type(layer.conv) is nn.Conv2d
            and layer.conv.padding_mode == 'zeros')


class PerLevelLayers(nn.ModuleList):
    """The per-level stage of adaptive feature pooling (PANet Sec. 3.2,
    Fig. 6): one copy of a layer per pooled level, each with its own
    weights, applied to that level's RoI grids.

    ``(R, L, C, H, W) -> L`` tensors ``(R, *out)``, one per level, before
    any fusion. A forward hook on this module sees every level's output.

    Args:
        template (nn.Module): The layer (e.g. ``ConvModule`` or
            ``FCModule``); it is copied ``num_levels`` times and each copy is
            initialized anew, so the levels start from different weights.
        num_levels (int): Number of levels ``L``.
        grouped_conv (bool): For ``ConvModule`` layers (conv, norm, act;
            zero padding), run the convolutions of all levels as one grouped
            convolution over the levels stacked along channels, followed by
            each level's own norm and activation. Same parameters and
            result as the loop; measured faster at inference and as fast in
            training. Other layers, or ``False``, loop over the levels, as
            does a graph being exported (``torch.export``, ONNX): there
            ONNX Runtime fuses each level's convolution with its norm and
            activation, which measured faster than one grouped convolution.
            Defaults to True.
    """

    def __init__(self,
                 template: nn.Module,
                 num_levels: int,
                 grouped_conv: bool = True) -> None:
        super().__init__(fresh_copy(template) for _ in range(num_levels))
        self.grouped_conv = bool(grouped_conv) and _groupable(template)

    def forward(self, x: Tensor) -> List[Tensor]:
        """(R, L, C, H, W) -> L x (R, *out)."""
        if self.grouped_conv and not torch.compiler.is_exporting():
            return self._grouped_conv_forward(x)
        return [layer(lvl) for layer, lvl in zip(self, x.unbind(1))]

    def _grouped_conv_forward(self, x: Tensor) -> List[Tensor]:
        convs = [layer.conv for layer in self]
        conv = convs[0]
        weight = torch.cat([c.weight for c in convs])
        bias = None if conv.bias is None else torch.cat(
            [c.bias for c in convs])
        out = F.conv2d(
            x.flatten(1, 2), weight, bias, conv.stride, conv.padding,
            conv.dilation, conv.groups * len(convs))
        out = out.unflatten(1, (len(convs), -1))
        outs = []
        for i, layer in enumerate(self):
            level = out[:, i]
            if layer.with_norm:
                level = layer.norm(level)
            else:  # an inplace activation must not write into shared memory
                level = level.clone()
            if layer.with_activation:
                level = layer.activate(level)
            outs.append(level)
        return outs
