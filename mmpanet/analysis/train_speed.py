# Copyright (c) mmpanet contributors. All rights reserved.
"""Training speed of configs side by side: interleaved blocks of real
training on each config's own data.

Each round trains every config in turn for ``iters`` iterations (A, B, A,
B, ...), each block in a fresh spawned process that builds the config's
runner and calls ``runner.train()``: its dataloader, pipeline, optimizer
wrapper and hooks, as ``tools/train.py`` would, with no validation and no
checkpoints. The time of every iteration (and the part spent waiting for
data) is what mmengine's ``IterTimerHook`` logged; the first ``warmup`` of
each block are dropped. Slow drifts of the machine hit every config alike,
and the CPU time stolen by the hypervisor during the run is reported.

``profile_iters`` adds, to the first config's first block, mmengine's
``ProfilerHook`` (torch profiler; operators by self time) and
:class:`mmpanet.engine.hooks.ModuleRangesHook`, which marks the forward pass
of the model's public modules as profiler ranges, so the same table lists
them too.
"""
import statistics
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch

from .benchmark import in_fresh_process
from .cpu_steal import read_cpu_times, steal_percent


@dataclass
class Block:
    config: str
    times: List[float]
    data_times: List[float]


def _train_block(config: str, iters: int, warmup: int,
                 cfg_options: Optional[dict], profile_iters: int,
                 threads: int) -> Block:
    """Train ``config`` for ``iters`` iterations in this process; the
    per-iteration times after ``warmup``."""
    torch.set_num_threads(threads)
    from mmdet.registry import RUNNERS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config

    import mmpanet  # noqa: F401  (registers the modules)
    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        cfg.log_level = 'WARNING'
        cfg.train_cfg.max_iters = iters
        # no validation (the loop would run it after the last iteration)
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        cfg.default_hooks.checkpoint = dict(
            type='CheckpointHook', interval=-1, save_last=False)
        cfg.default_hooks.logger.interval = iters
        if profile_iters:
            cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
                dict(type='ModuleRangesHook'),
                dict(
                    type='ProfilerHook',
                    by_epoch=False,
                    profile_times=warmup + profile_iters,
                    schedule=dict(wait=0, warmup=warmup, active=profile_iters),
                    on_trace_ready=dict(
                        type='log_trace',
                        sort_by='self_cpu_time_total',
                        row_limit=80))
            ]
        runner = RUNNERS.build(cfg)
        runner.train()
        hub = runner.message_hub
        times = hub.get_scalar('train/time').data[0].tolist()
        data_times = hub.get_scalar('train/data_time').data[0].tolist()
    return Block(config, times[warmup:], data_times[warmup:])


@dataclass
class Result:
    config: str
    blocks: List[Block] = field(default_factory=list)

    @property
    def times(self) -> List[float]:
        return [t for b in self.blocks for t in b.times]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def block_medians(self) -> List[float]:
        return [statistics.median(b.times) for b in self.blocks]

    @property
    def data_median(self) -> float:
        return statistics.median(t for b in self.blocks for t in b.data_times)


def run(configs: Sequence[str],
        iters: int = 30,
        warmup: int = 5,
        rounds: int = 3,
        cfg_options: Optional[dict] = None,
        profile_iters: int = 0,
        threads: int = 2,
        progress=print) -> Dict:
    """Interleaved blocks of training; see the module docstring."""
    if iters <= warmup:
        raise ValueError(f'iters ({iters}) must exceed warmup ({warmup})')
    results = [Result(c) for c in configs]
    before = read_cpu_times()
    for r in range(rounds):
        for i, config in enumerate(configs):
            profile = profile_iters if (r, i) == (0, 0) else 0
            n = iters + profile
            block = in_fresh_process(_train_block, config, n, warmup,
                                     cfg_options, profile, threads)
            results[i].blocks.append(block)
            progress(f'round {r + 1}/{rounds}: {config} '
                     f'{statistics.median(block.times):.3f} s/iter')
    steal = steal_percent(before, read_cpu_times())
    return dict(results=results, steal=steal)


def markdown(summary: Dict) -> str:
    results = summary['results']
    base = results[0].median
    lines = [
        '| config | s/iter (median) | block medians | it/s | data wait '
        '| speed vs first |', '|---|---|---|---|---|---|'
    ]
    for res in results:
        blocks = ', '.join(f'{m:.3f}' for m in res.block_medians)
        lines.append(f'| {res.config} | {res.median:.3f} | '
                     f'{blocks} | {1 / res.median:.2f} | '
                     f'{res.data_median:.3f} | {base / res.median:.2f}x |')
    lines.append('')
    lines.append(f"CPU steal during the run: {summary['steal']:.1f}%")
    return '\n'.join(lines)
