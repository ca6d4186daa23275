# Copyright (c) mmpanet contributors. All rights reserved.
from contextlib import contextmanager
from typing import Sequence

import torch.nn as nn
from mmdet.registry import OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper

from .amp import TRAINING_FP32_OUTPUTS, amp_training, device_of


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed-precision training on CPU: bf16 autocast in the forward pass.

    mmengine's ``AmpOptimWrapper`` needs a GPU (its ``GradScaler`` is CUDA's);
    bf16 keeps fp32's exponent range, so no loss scaling is needed here.
    Parameters, gradients and the optimizer stay fp32.

    mmcv's CPU NMS has only an fp32 kernel, so the outputs of the modules
    named in ``fp32_outputs`` (by default the RPN head, whose proposals go
    through NMS during training) are cast back to fp32; their own layers
    still run in bf16 (:func:`mmpanet.engine.amp.fp32_boundaries`, which
    also gives mmdet's single-level RoI extractor fp32 features).
    ``tools/train.py --amp`` picks this wrapper on CPU and mmengine's
    ``AmpOptimWrapper`` (fp16, dynamic loss scale) on CUDA.

    Args:
        fp32_outputs (Sequence[str]): dotted names of the model's
            submodules whose outputs are cast to fp32. Names it lacks are
            skipped (a detector without an RPN head). Defaults to
            ``('rpn_head', )``.
        **kwargs: passed to ``OptimWrapper``.
    """

    def __init__(self,
                 fp32_outputs: Sequence[str] = TRAINING_FP32_OUTPUTS,
                 **kwargs):
        if isinstance(
                fp32_outputs,
                str) or not all(isinstance(n, str) for n in fp32_outputs):
            raise TypeError('fp32_outputs must be a sequence of module '
                            f'names, got {fp32_outputs!r}')
        super().__init__(**kwargs)
        self.fp32_outputs = tuple(fp32_outputs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        device = device_of(model)
        if device.type != 'cpu':
            raise ValueError('CPUAmpOptimWrapper autocasts CPU ops only, but '
                             f'the model is on {device}: use mmengine\'s '
                             'AmpOptimWrapper on GPUs')
        with super().optim_context(model), amp_training(
                model, self.fp32_outputs):
            yield
