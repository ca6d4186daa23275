# Copyright (c) mmpanet contributors. All rights reserved.
"""Mixed precision for a whole detector: autocast (bf16 on CPU, fp16 on
CUDA) with fp32 where an op needs it.

Under autocast the convolutions and linear layers run in low precision. What
follows some public modules does not: box decoding and mmcv's NMS (an fp32
kernel only, on CPU) after the RPN and box heads, mask pasting after the
mask head, and mmcv's CPU RoIAlign (no bf16 kernel) inside mmdet's
single-level RoI extractor. :func:`fp32_boundaries` casts there, through
forward hooks on those public modules; the modules' own layers still run in
low precision. ``AllLevelRoIExtractor`` handles low-precision features
itself. Training (:class:`CPUAmpOptimWrapper`) casts the RPN head's outputs
(its proposals go through NMS); inference (:func:`amp_inference`,
``AmpTestLoop`` / ``AmpValLoop``, ``tools/test.py --amp``,
``tools/infer.py --amp``) casts all of them.
"""
import contextlib
from typing import Iterator, Sequence

import torch
import torch.nn as nn
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import LOOPS
from mmengine.runner import TestLoop, ValLoop, autocast
from mmengine.utils import apply_to

# public modules whose outputs leave low precision: in training, the RPN
# head's (its proposals go through NMS); at inference, the heads' (box
# decoding, NMS, mask pasting)
TRAINING_FP32_OUTPUTS = ('rpn_head', )
INFERENCE_FP32_OUTPUTS = ('rpn_head', 'roi_head.bbox_head',
                          'roi_head.mask_head')


def to_float(outputs):
    """``outputs`` with every floating-point tensor cast to fp32."""
    return apply_to(outputs,
                    lambda x: torch.is_tensor(x) and x.is_floating_point(),
                    lambda x: x.float())


def _named(model: nn.Module, names: Sequence[str]) -> Iterator[nn.Module]:
    """Submodules whose dotted name is one of ``names`` or ends with
    ``.<name>`` (inside a TTA model, an ensemble or a model wrapper)."""
    for full, module in model.named_modules():
        if any(full == n or full.endswith('.' + n) for n in names):
            yield module


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@contextlib.contextmanager
def fp32_boundaries(model: nn.Module,
                    outputs: Sequence[str] = INFERENCE_FP32_OUTPUTS):
    """Within the context, the outputs of ``model``'s submodules named in
    ``outputs`` are cast to fp32, and on CPU the inputs of mmdet's
    single-level RoI extractors are (mmcv's CPU RoIAlign has no bf16
    kernel). Names the model lacks are skipped."""
    handles = [
        m.register_forward_hook(lambda mod, args, out: to_float(out))
        for m in _named(model, outputs)
    ]
    if device_of(model).type == 'cpu':
        handles += [
            m.register_forward_pre_hook(lambda mod, args: to_float(args))
            for m in model.modules() if type(m) is SingleRoIExtractor
        ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def amp_dtype(device_type: str) -> torch.dtype:
    """bf16 on CPU (no loss scaling needed), fp16 on CUDA."""
    return torch.bfloat16 if device_type == 'cpu' else torch.float16


@contextlib.contextmanager
def amp_training(model: nn.Module,
                 fp32_outputs: Sequence[str] = TRAINING_FP32_OUTPUTS,
                 enabled: bool = True):
    """The loss step of ``model`` under autocast on its device, fp32 at
    ``fp32_outputs`` (and for single-level RoIAlign on CPU), as
    :class:`CPUAmpOptimWrapper` trains."""
    if not enabled:
        yield
        return
    device_type = device_of(model).type
    with fp32_boundaries(model, fp32_outputs), autocast(
            device_type=device_type, dtype=amp_dtype(device_type)):
        yield


@contextlib.contextmanager
def amp_inference(model: nn.Module, enabled: bool = True):
    """Run ``model`` (a detector, a TTA model or an ensemble) under
    autocast on its device, fp32 at :data:`INFERENCE_FP32_OUTPUTS` and for
    single-level RoIAlign on CPU. Wrap ``model.test_step``, mmdet's
    ``inference_detector`` or a ``DetInferencer`` call in it::

        with mmpanet.amp_inference(model):
            result = inference_detector(model, 'demo.jpg')
    """
    with amp_training(model, INFERENCE_FP32_OUTPUTS, enabled):
        yield


@LOOPS.register_module()
class AmpTestLoop(TestLoop):
    """mmengine's ``TestLoop`` with ``fp16=True`` (its autocast: bf16 on
    CPU, fp16 on CUDA) and :func:`fp32_boundaries` around the model
    (``tools/test.py --amp``)."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = True):
        super().__init__(runner, dataloader, evaluator, fp16=fp16)

    def run(self) -> dict:
        with fp32_boundaries(self.runner.model):
            return super().run()


@LOOPS.register_module()
class AmpValLoop(ValLoop):
    """mmengine's ``ValLoop`` with ``fp16=True`` and
    :func:`fp32_boundaries` around the model."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = True):
        super().__init__(runner, dataloader, evaluator, fp16=fp16)

    def run(self) -> dict:
        with fp32_boundaries(self.runner.model):
            return super().run()
