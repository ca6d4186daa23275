# Copyright (c) mmpanet contributors. All rights reserved.
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from .fusion import fuse
from .per_level_layers import PerLevelLayers, fresh_copy


class AdaptiveFeatureFusion(BaseModule):
    """The first parameter layer of an AFP head and the fusion of the levels
    (PANet Sec. 3.2, Fig. 6).

    Takes the RoI grids pooled from every level, ``(R, L, C, H, W)``, and
    returns one fused tensor per RoI:

    - ``fuse_first=False`` (the paper's ``fc1fu.fc2``): ``layers`` is a
      :class:`PerLevelLayers` (each level through its OWN copy of the
      layer), whose ``L`` outputs are then fused element-wise;
    - ``fuse_first=True`` (``fu.fc1fc2``): the ``L`` grids are fused right
      after RoIAlign, then go through the single layer ``layers[0]``.

    Both AFP heads put their first layer in one of these, whatever
    ``num_levels``, so an option never changes the state-dict layout: the
    first layer's weights are ``<head>.<first>.layers.<i>.*``. A 4-D input
    ``(R, C, H, W)`` (a single-level extractor) is one level, and the
    weights of a plain, unwrapped first layer load into ``layers.0`` when
    ``num_levels == 1``.

    Args:
        template (nn.Module): The first layer; it is copied once per level
            (once when ``fuse_first``) and each copy is initialized anew.
        num_levels (int): Number of pooled levels ``L``.
        fusion (str): A key of ``FUSION_OPS``; 'max' (paper default) or
            'sum' in the paper's Table 4. The heads validate ``num_levels``
            and ``fusion`` (their config keys).
        fuse_first (bool): Fuse before the first layer. Defaults to False.
        grouped_conv (bool): See :class:`PerLevelLayers`. Defaults to True.
    """

    def __init__(self,
                 template: nn.Module,
                 num_levels: int,
                 fusion: str = 'max',
                 fuse_first: bool = False,
                 grouped_conv: bool = True) -> None:
        super().__init__()
        self.num_levels = num_levels
        self.fusion = fusion
        self.fuse_first = fuse_first
        if fuse_first:
            self.layers = nn.ModuleList([fresh_copy(template)])
        else:
            self.layers = PerLevelLayers(template, num_levels, grouped_conv)

    def forward(self, x: Tensor) -> Tensor:
        """(R, L, C, H, W) -> (R, *out) of the first layer."""
        if x.dim() == 4:
            x = x.unsqueeze(1)
        if x.size(1) != self.num_levels:
            raise ValueError(
                f'num_levels is {self.num_levels} but the RoI extractor gave '
                f'{x.size(1)} level(s) per RoI: make the head\'s num_levels '
                '(bbox_head.num_levels, mask_head.num_levels) the number of '
                'entries in the RoI extractor\'s featmap_strides')
        if self.fuse_first:
            return self.layers[0](fuse(x.unbind(1), self.fusion))
        return fuse(self.layers(x), self.fusion)

    def _load_from_state_dict(self, state_dict, prefix, *args,
                              **kwargs) -> None:
        """Weights of a plain, unwrapped first layer (``<prefix>conv.*``)
        are read as those of the single level (``<prefix>layers.0.*``)."""
        if len(self.layers) == 1 and not any(
                k.startswith(prefix + 'layers.') for k in state_dict):
            for key in [k for k in state_dict if k.startswith(prefix)]:
                state_dict[prefix + 'layers.0.' +
                           key[len(prefix):]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
