# Copyright (c) mmpanet contributors. All rights reserved.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from .fusion import check_choice, fuse

AFP_FUSION_OPS = ('max', 'sum')


class AdaptiveFeatureFusion(BaseModule):
    """The fusion step of adaptive feature pooling (PANet Sec. 3.2, Fig. 6).

    Takes the RoI grids pooled from every level, ``(R, L, C, H, W)``, and
    returns one fused tensor per RoI:

    - ``fuse_first=False`` (the paper's ``fc1fu.fc2``): each level goes through
      its OWN copy of the first parameter layer (separate weights), then the
      ``L`` outputs are fused element-wise;
    - ``fuse_first=True`` (``fu.fc1fc2``): the ``L`` grids are fused right
      after RoIAlign, then go through a single first layer.

    A 4-D input ``(R, C, H, W)`` is accepted as a single level when
    ``num_levels == 1`` (plain single-level extractor).

    When the per-level layers are ``ConvModule`` s (conv, norm, act), their
    convolutions run as one grouped convolution over the levels stacked
    along channels (same result; measured faster than a loop over levels
    at inference, as fast in training), followed by each level's own norm
    and activation. Setting the attribute ``grouped_conv`` to False calls
    the layers one by one (the Figure 3 tool does, to hook each of them).

    Args:
        template (nn.Module): The first layer; it is copied once per level
            (once when ``fuse_first``) and each copy is initialized anew, so
            the levels start from different weights.
        num_levels (int): Number of pooled levels ``L``.
        fusion (str): 'max' (paper default) or 'sum'.
        fuse_first (bool): Fuse before the first layer. Defaults to False.
        owner (str): Config path of the owning head, used in error messages.
    """

    def __init__(self,
                 template: nn.Module,
                 num_levels: int,
                 fusion: str = 'max',
                 fuse_first: bool = False,
                 owner: str = 'head') -> None:
        super().__init__()
        self.check_options(num_levels, fusion, owner)
        self.num_levels = num_levels
        self.fusion = fusion
        self.fuse_first = fuse_first
        self.owner = owner
        num_layers = 1 if fuse_first else num_levels
        self.layers = nn.ModuleList(
            self.fresh_copy(template) for _ in range(num_layers))
        self.grouped_conv = (
            num_layers > 1 and isinstance(template, ConvModule)
            and template.order == ('conv', 'norm', 'act')
            and not template.with_explicit_padding
            and type(template.conv) is nn.Conv2d
            and template.conv.padding_mode == 'zeros')

    @staticmethod
    def fresh_copy(template: nn.Module) -> nn.Module:
        """A deep copy of ``template`` with its parameters initialized anew
        (torch's ``reset_parameters``, then the module's own
        ``init_weights``, e.g. ``ConvModule``'s Kaiming init)."""
        layer = copy.deepcopy(template)
        for m in layer.modules():
            if hasattr(m, 'reset_parameters'):
                m.reset_parameters()
        if hasattr(layer, 'init_weights'):
            layer.init_weights()
        return layer

    @staticmethod
    def check_options(num_levels: int, fusion: str, owner: str) -> None:
        """Validate ``num_levels`` and ``fusion`` of head ``owner``."""
        if not isinstance(num_levels, int) or num_levels < 1:
            raise ValueError(f'{owner}.num_levels must be a positive int, '
                             f'got {num_levels!r}')
        check_choice(f'{owner}.fusion', fusion, AFP_FUSION_OPS)

    def level_outputs(self, x: Tensor) -> list:
        """Per-level outputs before fusion (after fusion when fuse_first)."""
        if x.dim() == 4:
            x = x.unsqueeze(1)
        if x.size(1) != self.num_levels:
            raise ValueError(
                f'{self.owner}.num_levels is {self.num_levels} but the RoI '
                f'extractor gave {x.size(1)} level(s) per RoI: make '
                f'{self.owner}.num_levels equal to the number of entries in '
                'the RoI extractor\'s featmap_strides')
        if self.fuse_first:
            return [self.layers[0](fuse(x.unbind(1), self.fusion))]
        if self.grouped_conv:
            return self.grouped_conv_outputs(x)
        return [layer(lvl) for layer, lvl in zip(self.layers, x.unbind(1))]

    def grouped_conv_outputs(self, x: Tensor) -> list:
        """Per-level ``ConvModule`` outputs, the convolutions of all levels
        as one grouped convolution: (R, L, C, H, W) -> L x (R, C', H', W')."""
        convs = [layer.conv for layer in self.layers]
        conv = convs[0]
        weight = torch.cat([c.weight for c in convs])
        bias = None if conv.bias is None else torch.cat(
            [c.bias for c in convs])
        out = F.conv2d(
            x.flatten(1, 2), weight, bias, conv.stride, conv.padding,
            conv.dilation, conv.groups * len(convs))
        out = out.unflatten(1, (len(convs), -1))
        outs = []
        for i, layer in enumerate(self.layers):
            level = out[:, i]
            if layer.with_norm:
                level = layer.norm(level)
            else:  # an inplace activation must not write into shared memory
                level = level.clone()
            if layer.with_activation:
                level = layer.activate(level)
            outs.append(level)
        return outs

    def forward(self, x: Tensor) -> Tensor:
        """(R, L, C, H, W) -> (R, *out) of the first layer."""
        return fuse(self.level_outputs(x), self.fusion)
