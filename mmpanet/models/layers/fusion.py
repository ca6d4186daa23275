# Copyright (c) mmpanet contributors. All rights reserved.
"""Element-wise fusion of tensors, shared by AFP (Sec. 3.2) and FF (Sec. 3.3).

``FUSION_OPS`` is the one table of fusion ops: every module that fuses
validates its option against it and applies the op from it, so a new op is
one entry here.
"""
import functools
from typing import Iterable, Sequence

import torch
from torch import Tensor

# name -> binary element-wise op (broadcasting); applied left to right
FUSION_OPS = {
    'max': torch.maximum,
    'sum': torch.add,
    'prod': torch.mul,
}


def check_choice(key: str, value, choices: Iterable) -> None:
    """Raise ``ValueError`` naming ``key`` and the allowed values unless
    ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f'{key} must be one of {choices}, got {value!r}')


def fuse(tensors: Sequence[Tensor], op: str) -> Tensor:
    """Fuse tensors element-wise with ``FUSION_OPS[op]``.

    Shapes must broadcast to a common shape, e.g. ``(R, K, H, W)`` with
    ``(R, 1, H, W)``. The running reduction never stacks the inputs, so it
    costs one output tensor per step and nothing more.
    """
    check_choice('op', op, FUSION_OPS)
    if len(tensors) == 0:
        raise ValueError('fuse() needs at least one tensor')
    return functools.reduce(FUSION_OPS[op], tensors)
