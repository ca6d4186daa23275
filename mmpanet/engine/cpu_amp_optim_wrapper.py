# Copyright (c) mmpanet contributors. All rights reserved.
from contextlib import contextmanager
from typing import Sequence

import torch
import torch.nn as nn
from mmdet.registry import OPTIM_WRAPPERS
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.runner import autocast
from mmengine.utils import apply_to


def _to_float(outputs):
    """``outputs`` with every floating-point tensor cast to fp32."""
    return apply_to(outputs,
                    lambda x: torch.is_tensor(x) and x.is_floating_point(),
                    lambda x: x.float())


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed-precision training on CPU: bf16 autocast in the forward pass.

    mmengine's ``AmpOptimWrapper`` needs a GPU (its ``GradScaler`` is CUDA's);
    bf16 keeps fp32's exponent range, so no loss scaling is needed here.
    Parameters, gradients and the optimizer stay fp32.

    mmcv's CPU NMS has only an fp32 kernel, so the outputs of the modules
    named in ``fp32_outputs`` (by default the RPN head, whose proposals go
    through NMS during training) are cast back to fp32; their own layers
    still run in bf16. ``tools/train.py --amp`` picks this wrapper on CPU
    and mmengine's ``AmpOptimWrapper`` (fp16, dynamic loss scale) on CUDA.

    Args:
        fp32_outputs (Sequence[str]): names of the model's direct
            submodules whose outputs are cast to fp32. Names it lacks are
            skipped (a detector without an RPN head). Defaults to
            ``('rpn_head', )``.
        **kwargs: passed to ``OptimWrapper``.
    """

    def __init__(self, fp32_outputs: Sequence[str] = ('rpn_head', ), **kwargs):
        if isinstance(
                fp32_outputs,
                str) or not all(isinstance(n, str) for n in fp32_outputs):
            raise TypeError('fp32_outputs must be a sequence of module '
                            f'names, got {fp32_outputs!r}')
        super().__init__(**kwargs)
        self.fp32_outputs = tuple(fp32_outputs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        module = model.module if is_model_wrapper(model) else model
        device = next(module.parameters()).device
        if device.type != 'cpu':
            raise ValueError('CPUAmpOptimWrapper autocasts CPU ops only, but '
                             f'the model is on {device}: use mmengine\'s '
                             'AmpOptimWrapper on GPUs')
        handles = [
            getattr(module, name).register_forward_hook(
                lambda mod, args, out: _to_float(out))
            for name in self.fp32_outputs if hasattr(module, name)
        ]
        try:
            with super().optim_context(model), autocast(
                    device_type='cpu', dtype=torch.bfloat16):
                yield
        finally:
            for handle in handles:
                handle.remove()
