# Copyright (c) mmpanet contributors. All rights reserved.
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from model_utils import build

from mmpanet.testing import make_batch, random_specs

ARGS = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_mask=True,
    pad_size_divisor=32)


def test_channels_last_batch_has_the_same_values():
    data = make_batch(random_specs(2, (70, 90)))
    plain = MODELS.build(dict(type='DetDataPreprocessor', **ARGS))
    last = MODELS.build(
        dict(
            type='MemoryFormatDetDataPreprocessor',
            memory_format='channels_last',
            **ARGS))
    expected = plain(copy.deepcopy(data), True)['inputs']
    out = last(copy.deepcopy(data), True)['inputs']
    assert not expected.is_contiguous(memory_format=torch.channels_last)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, expected)


def test_unknown_memory_format_is_named():
    with pytest.raises(ValueError, match='memory_format must be one of'):
        MODELS.build(
            dict(
                type='MemoryFormatDetDataPreprocessor',
                memory_format='nhwc',
                **ARGS))


def test_main_job_model_gives_the_same_losses_and_gradients_channels_last(
        root):
    """The main job's model (fp32 here) on channels-last and contiguous
    batches: losses equal to 1e-4 relative, gradients to 1e-3."""
    cfg = Config.fromfile(
        f'{root}/configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py')
    data = make_batch(random_specs(2, (96, 96), seed=1))
    results = []
    for memory_format in ('contiguous', 'channels_last'):
        model_cfg = copy.deepcopy(cfg.model)
        model_cfg.data_preprocessor.memory_format = memory_format
        torch.manual_seed(0)
        model = build(model_cfg)
        model.train()
        torch.manual_seed(1)  # the same RPN / RoI samples
        processed = model.data_preprocessor(copy.deepcopy(data), True)
        losses = model(**processed, mode='loss')
        total, log_vars = model.parse_losses(losses)
        total.backward()
        grads = {
            n: p.grad.clone()
            for n, p in model.named_parameters() if p.grad is not None
        }
        results.append((log_vars, grads))
    (vars_a, grads_a), (vars_b, grads_b) = results
    assert vars_a.keys() == vars_b.keys()
    for key in vars_a:
        assert float(vars_b[key]) == pytest.approx(
            float(vars_a[key]), rel=1e-4, abs=1e-6), key
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 50
    for name in grads_a:
        torch.testing.assert_close(
            grads_b[name], grads_a[name], rtol=1e-3, atol=1e-5, msg=name)
