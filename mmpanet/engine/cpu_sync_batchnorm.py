# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Any, Optional

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


class CPUSyncBatchNorm(_BatchNorm):
    """Synchronized BN that also runs on CPU (``gloo``).

    torch's ``SyncBatchNorm`` refuses CPU tensors, and DDP refuses CPU
    modules that contain one. In multi-process CPU training this layer
    all-reduces the per-channel sum, sum of squares and count over the
    process group (differentiably, so the backward pass sums the
    statistics' gradients over the processes, as torch's CUDA kernel does)
    and normalizes with the global batch statistics. In eval mode, or in a
    single process, it is plain BN. Its parameters and buffers are those of
    ``SyncBatchNorm``, so checkpoints load either way. Used for the paper's
    MBN (synchronized BN, spec section 4) in multi-process CPU runs.

    Input: ``(N, C, ...)``; output: same shape.
    """

    def __init__(self,
                 num_features: int,
                 eps: float = 1e-5,
                 momentum: Optional[float] = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True,
                 process_group: Optional[Any] = None) -> None:
        super().__init__(num_features, eps, momentum, affine,
                         track_running_stats)
        self.process_group = process_group

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError('CPUSyncBatchNorm expects (N, C, ...) input, '
                             f'got {input.dim()}-D')

    @classmethod
    def convert(cls, module: nn.Module) -> nn.Module:
        """``module`` with every ``nn.SyncBatchNorm`` replaced by this class
        (same parameters, buffers and process group)."""
        if isinstance(module, nn.SyncBatchNorm):
            new = cls(module.num_features, module.eps, module.momentum,
                      module.affine, module.track_running_stats,
                      module.process_group)
            new.load_state_dict(module.state_dict())
            new.train(module.training)
            return new
        for name, child in module.named_children():
            module.add_module(name, cls.convert(child))
        return module

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        group = self.process_group or (dist.group.WORLD
                                       if dist.is_initialized() else None)
        if not (self.training and input.device.type == 'cpu'
                and group is not None and dist.get_world_size(group) > 1):
            return super().forward(input)
        self._check_input_dim(input)
        num_channels = input.size(1)
        x = input.transpose(0, 1).reshape(num_channels, -1).float()
        stats = torch.cat(
            [x.sum(1),
             x.square().sum(1),
             x.new_full((1, ), x.size(1))])
        stats = dist_fn.all_reduce(stats, group=group)
        count = stats[-1]
        if count < 2:
            raise ValueError('CPUSyncBatchNorm needs more than 1 value per '
                             f'channel over all processes, got {int(count)} '
                             f'(input {tuple(input.shape)})')
        mean = stats[:num_channels] / count
        var = (stats[num_channels:-1] / count - mean.square()).clamp(min=0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                factor = (1.0 / float(self.num_batches_tracked)
                          if self.momentum is None else self.momentum)
                self.running_mean.lerp_(mean, factor)
                self.running_var.lerp_(var * count / (count - 1), factor)
        scale = torch.rsqrt(var + self.eps)
        shift = -mean * scale
        if self.affine:
            scale = scale * self.weight
            shift = shift * self.weight + self.bias
        shape = (1, num_channels) + (1, ) * (input.dim() - 2)
        return (input * scale.view(shape) + shift.view(shape)).to(input.dtype)
