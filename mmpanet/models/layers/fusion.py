# Copyright (c) mmpanet contributors. All rights reserved.
"""Element-wise fusion of tensors, shared by AFP (Sec. 3.2) and FF (Sec. 3.3).

``FUSION_OPS`` is the one table of fusion ops: every module that fuses
validates its option against it (once, in its ``__init__``) and applies the
op from it, so a new op is one entry here.
"""
import functools
from typing import Sequence

import torch
from torch import Tensor


class _Maximum(torch.autograd.Function):
    """``torch.maximum`` whose gradient goes, whole, to each input equal to
    the maximum (as Caffe2's ``MaxGradient``, the authors' framework; torch
    splits it between tied inputs). The backward is one subtraction and one
    ``threshold_backward`` per input, several times cheaper on CPU than
    torch's own (``where``, ``eq`` and ``masked_fill`` per input), which
    made max fusion a sizeable part of an AFP training step.
    """

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:
        out = torch.maximum(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        a, b, out = ctx.saved_tensors
        return tuple(
            _grad_where_max(grad, x, out) if needed else None
            for x, needed in zip((a, b), ctx.needs_input_grad))


def _grad_where_max(grad: Tensor, x: Tensor, out: Tensor) -> Tensor:
    """``grad`` where ``x`` equals ``out = max(x, ...)``, else 0; reduced to
    ``x``'s shape where ``x`` was broadcast.

    ``x - out`` is 0 at the maximum and at most ``-tiny`` (the dtype's
    smallest normal number) elsewhere, so ``threshold_backward`` keeps
    exactly the maxima. Values that differ by less than ``tiny`` (only
    within ~1e-38 of each other in fp32 and bf16) count as ties. fp16 is
    compared in fp32, whose ``tiny`` is below every fp16 step.
    """
    if x.dtype == torch.float16:
        x, out = x.float(), out.float()
    diff = x - out
    kept = torch.ops.aten.threshold_backward(
        grad.to(diff.dtype), diff, -torch.finfo(diff.dtype).tiny)
    return kept.sum_to_size(x.shape).to(grad.dtype)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """Element-wise maximum (broadcasting) of ``a`` and ``b``; each input
    equal to the maximum receives the full gradient. Without gradients it
    is ``torch.maximum`` (the same values; what an exported graph holds)."""
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        return _Maximum.apply(a, b)
    return torch.maximum(a, b)


# name -> binary element-wise op (broadcasting); applied left to right
FUSION_OPS = {
    'max': maximum,
    'sum': torch.add,
    'prod': torch.mul,
}


def fuse(tensors: Sequence[Tensor], op: str) -> Tensor:
    """Fuse tensors element-wise with ``FUSION_OPS[op]``.

    Shapes must broadcast to a common shape, e.g. ``(R, K, H, W)`` with
    ``(R, 1, H, W)``. The running reduction never stacks the inputs, so it
    costs one output tensor per step and nothing more.
    """
    if op not in FUSION_OPS:
        raise ValueError(f'op must be one of {tuple(FUSION_OPS)}, got {op!r}')
    if len(tensors) == 0:
        raise ValueError('fuse() needs at least one tensor')
    return functools.reduce(FUSION_OPS[op], tensors)
