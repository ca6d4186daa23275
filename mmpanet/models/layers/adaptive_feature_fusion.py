# Copyright (c) mmpanet contributors. All rights reserved.
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from .fusion import FUSION_OPS, check_choice, fuse
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

    A 4-D input ``(R, C, H, W)`` is accepted as a single level when
    ``num_levels == 1`` (plain single-level extractor).

    Args:
        template (nn.Module): The first layer; it is copied once per level
            (once when ``fuse_first``) and each copy is initialized anew.
        num_levels (int): Number of pooled levels ``L``.
        fusion (str): A key of ``FUSION_OPS``; 'max' (paper default) or
            'sum' in the paper's Table 4.
        fuse_first (bool): Fuse before the first layer. Defaults to False.
        grouped_conv (bool): See :class:`PerLevelLayers`. Defaults to True.
        owner (str): Config path of the owning head, used in error messages.
    """

    def __init__(self,
                 template: nn.Module,
                 num_levels: int,
                 fusion: str = 'max',
                 fuse_first: bool = False,
                 grouped_conv: bool = True,
                 owner: str = 'head') -> None:
        super().__init__()
        self.check_options(num_levels, fusion, owner)
        self.num_levels = num_levels
        self.fusion = fusion
        self.fuse_first = fuse_first
        self.owner = owner
        if fuse_first:
            self.layers = nn.ModuleList([fresh_copy(template)])
        else:
            self.layers = PerLevelLayers(template, num_levels, grouped_conv)

    @staticmethod
    def check_options(num_levels: int, fusion: str, owner: str) -> None:
        """Validate ``num_levels`` and ``fusion`` of head ``owner``."""
        if not isinstance(num_levels, int) or num_levels < 1:
            raise ValueError(f'{owner}.num_levels must be a positive int, '
                             f'got {num_levels!r}')
        check_choice(f'{owner}.fusion', fusion, FUSION_OPS)

    def forward(self, x: Tensor) -> Tensor:
        """(R, L, C, H, W) -> (R, *out) of the first layer."""
        if x.dim() == 4:
            x = x.unsqueeze(1)
        if x.size(1) != self.num_levels:
            raise ValueError(
                f'{self.owner}.num_levels is {self.num_levels} but the RoI '
                f'extractor gave {x.size(1)} level(s) per RoI: make '
                f'{self.owner}.num_levels equal to the number of entries in '
                'the RoI extractor\'s featmap_strides')
        if self.fuse_first:
            return self.layers[0](fuse(x.unbind(1), self.fusion))
        return fuse(self.layers(x), self.fusion)
