# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Sequence

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

# public modules of a two-stage detector whose forward passes are ranged
MODULES = ('data_preprocessor', 'backbone', 'neck', 'rpn_head',
           'roi_head.bbox_roi_extractor', 'roi_head.bbox_head',
           'roi_head.mask_roi_extractor', 'roi_head.mask_head')


@HOOKS.register_module()
class ModuleRangesHook(Hook):
    """Marks the forward pass of each named public module of the model as
    a ``torch.profiler.record_function`` range, so that a profiler table
    (mmengine's ``ProfilerHook``) lists time by module. It observes the
    model through forward hooks and changes nothing.

    Args:
        modules (Sequence[str]): dotted names of submodules; names the model
            lacks are skipped. Defaults to :data:`MODULES`.
    """

    priority = 'VERY_LOW'

    def __init__(self, modules: Sequence[str] = MODULES) -> None:
        self.modules = tuple(modules)

    def before_run(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        for name in self.modules:
            try:
                module = model.get_submodule(name)
            except AttributeError:
                continue
            ranges = []
            module.register_forward_pre_hook(
                lambda m, args, n=name, r=ranges: r.append(
                    torch.profiler.record_function(f'module::{n}').__enter__()
                ))
            module.register_forward_hook(lambda m, args, out, r=ranges: r.pop(
            ).__exit__(None, None, None))
