# Copyright (c) mmpanet contributors. All rights reserved.
"""CPUSyncBatchNorm in 2 processes (gloo) equals one BN over the whole
batch: outputs, input and parameter gradients, running statistics."""
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

from mmpanet.engine import CPUSyncBatchNorm

WORLD = 2
C = 3


def full_batch():
    g = torch.Generator().manual_seed(0)
    # uneven split: 3 images on rank 0, 1 on rank 1
    x = torch.randn(4, C, 5, 6, generator=g) * 3 + 1
    w = torch.randn(4, C, 5, 6, generator=g)  # loss weights
    return x, w, [slice(0, 3), slice(3, 4)]


def fresh_layer(cls):
    layer = cls(C, momentum=0.3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        layer.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    return layer


def worker(rank, init_file, out_dir):
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=WORLD)
    try:
        x, w, parts = full_batch()
        layer = fresh_layer(CPUSyncBatchNorm).train()
        xr = x[parts[rank]].clone().requires_grad_()
        for _ in range(2):  # two steps: the running stats accumulate
            out = layer(xr)
        (out * w[parts[rank]]).sum().backward()
        torch.save(
            dict(
                out=out.detach(),
                x_grad=xr.grad,
                weight_grad=layer.weight.grad,
                bias_grad=layer.bias.grad,
                state=layer.state_dict()), osp.join(out_dir, f'{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_two_processes_equal_one_bn_over_the_whole_batch(tmp_path):
    mp.spawn(
        worker, args=(str(tmp_path / 'init'), str(tmp_path)), nprocs=WORLD)
    ranks = [torch.load(tmp_path / f'{r}.pt') for r in range(WORLD)]

    x, w, parts = full_batch()
    ref = fresh_layer(nn.BatchNorm2d).train()
    x = x.clone().requires_grad_()
    for _ in range(2):
        out = ref(x)
    (out * w).sum().backward()

    for r, part in enumerate(parts):
        torch.testing.assert_close(ranks[r]['out'], out[part].detach())
        torch.testing.assert_close(ranks[r]['x_grad'], x.grad[part])
        for key, value in ref.state_dict().items():
            torch.testing.assert_close(ranks[r]['state'][key], value)
    # each process holds the gradient of its own loss; DDP sums / averages
    torch.testing.assert_close(
        ranks[0]['weight_grad'] + ranks[1]['weight_grad'], ref.weight.grad)
    torch.testing.assert_close(ranks[0]['bias_grad'] + ranks[1]['bias_grad'],
                               ref.bias.grad)


def test_single_process_and_eval_are_torch_syncbn():
    """Without a process group, or in eval mode, it is plain BN."""
    x = torch.randn(4, C, 5, 6)
    layer, ref = fresh_layer(CPUSyncBatchNorm), fresh_layer(nn.BatchNorm2d)
    torch.testing.assert_close(layer.train()(x), ref.train()(x))
    torch.testing.assert_close(layer.eval()(x), ref.eval()(x))


def test_convert_keeps_state():
    model = nn.Sequential(nn.Conv2d(3, C, 1), nn.SyncBatchNorm(C))
    model[1].running_mean.fill_(0.7)
    converted = CPUSyncBatchNorm.convert(model)
    assert type(converted[1]) is CPUSyncBatchNorm
    assert torch.equal(converted[1].running_mean, torch.full((C, ), 0.7))


def test_too_few_values_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match='more than 1 value per channel'):
        mp.spawn(
            one_value_worker, args=(str(tmp_path / 'init'), ), nprocs=WORLD)


def one_value_worker(rank, init_file):
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=WORLD)
    try:
        # rank 0 has one value per channel, rank 1 none
        x = torch.randn(1 - rank, C, 1, 1)
        CPUSyncBatchNorm(C).train()(x)
    finally:
        dist.destroy_process_group()
