# Copyright (c) mmpanet contributors. All rights reserved.
"""Element-wise fusion of tensors, shared by AFP (Sec. 3.2) and FF (Sec. 3.3).
"""
from typing import Iterable, Sequence

import torch
from torch import Tensor

FUSION_OPS = ('max', 'sum', 'prod')


def check_choice(key: str, value, choices: Iterable) -> None:
    """Raise ``ValueError`` naming ``key`` and the allowed values unless
    ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f'{key} must be one of {choices}, got {value!r}')


def fuse(tensors: Sequence[Tensor], op: str) -> Tensor:
    """Fuse tensors element-wise with ``op`` ('max', 'sum' or 'prod').

    Shapes must broadcast to a common shape, e.g. ``(R, K, H, W)`` with
    ``(R, 1, H, W)``. The running reduction never stacks the inputs, so it
    costs one output tensor per step and nothing more.
    """
    check_choice('op', op, FUSION_OPS)
    if len(tensors) == 0:
        raise ValueError('fuse() needs at least one tensor')
    out = tensors[0]
    for t in tensors[1:]:
        if op == 'max':
            out = torch.maximum(out, t)
        elif op == 'sum':
            out = out + t
        else:
            out = out * t
    return out
