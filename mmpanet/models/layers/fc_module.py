# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Optional, Union

import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from torch import Tensor


class FCModule(nn.Module):
    """Fully-connected layer with optional norm and activation: the ``fc``
    counterpart of mmcv's ``ConvModule``.

    The input is flattened to ``(N, in_features)`` first, so a RoI grid
    ``(N, C, H, W)`` can be fed directly. ``BN`` is applied as ``BN1d``; GN and
    SyncBN accept ``(N, C)`` as they are.

    Args:
        in_features (int): Input size (``C * H * W`` for a grid).
        out_features (int): Output size.
        norm_cfg (dict, optional): Norm layer config. Defaults to None.
        act_cfg (dict, optional): Activation config. Defaults to ReLU.
        bias (bool | str): Bias of the linear layer; 'auto' (as mmcv's
            ``ConvModule``) means no bias when a norm follows. Defaults to
            'auto'.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 bias: Union[bool, str] = 'auto') -> None:
        super().__init__()
        if bias != 'auto' and not isinstance(bias, bool):
            raise ValueError(f"bias must be 'auto', True or False, got "
                             f'{bias!r}')
        self.with_norm = norm_cfg is not None
        if bias == 'auto':
            bias = not self.with_norm
        self.fc = nn.Linear(in_features, out_features, bias=bias)
        if self.with_norm:
            norm_cfg = dict(norm_cfg)
            if norm_cfg['type'] in ('BN', 'BN2d'):
                norm_cfg['type'] = 'BN1d'
            self.norm_name, norm = build_norm_layer(norm_cfg, out_features)
            self.add_module(self.norm_name, norm)
        self.activate = (
            build_activation_layer(act_cfg) if act_cfg is not None else None)

    @property
    def norm(self) -> Optional[nn.Module]:
        return getattr(self, self.norm_name) if self.with_norm else None

    def forward(self, x: Tensor) -> Tensor:
        """(N, *) -> (N, out_features)."""
        x = self.fc(x.flatten(1))
        if self.with_norm:
            x = self.norm(x)
        if self.activate is not None:
            x = self.activate(x)
        return x
