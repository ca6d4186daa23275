# Copyright (c) mmpanet contributors. All rights reserved.
"""tools/analysis_tools/benchmark.py on two tiny configs."""
import json
import os.path as osp

import pytest
from tool_utils import ROOT, load_tool

from mmpanet.analysis.benchmark import Settings, measure_memory, proc_status_mb

benchmark = load_tool('tools/analysis_tools/benchmark.py')

SHAPES = osp.join(ROOT, 'configs', 'shapes')
CONFIGS = [
    osp.join(SHAPES, 'mask-rcnn_r18-w32_fpn_1100i_shapes.py'),
    osp.join(SHAPES, 'panet_r18-w32_pafpn-relu_1100i_shapes.py')
]


def test_benchmark_two_configs(tmp_path):
    benchmark.main(CONFIGS + [
        '--img-size', '96', '128', '--num-images', '2', '--repeats', '1',
        '--warmup', '1', '--train-iters', '1', '--num-dets', '7',
        '--components', '--profile', '3', '--out-dir',
        str(tmp_path)
    ])
    result = json.loads((tmp_path / 'benchmark.json').read_text())
    base, panet = result['results']
    for r in (base, panet):
        assert r['latency_ms']['n'] == 2
        assert 0 < r['latency_ms']['min'] <= r['latency_ms']['median']
        assert r['train_iter_s']['median'] > 0
        assert r['memory'][
            'rss_peak_mb'] > r['memory']['rss_model_built_mb'] * 0.5
        assert r['gflops'] > 0
    # PANet adds parameters and compute; RoIAlign is not traceable, nor is
    # the gather that pools PANet's levels
    assert panet['params_m'] > base['params_m']
    assert panet['gflops'] > base['gflops']
    assert any('RoIAlign' in op for op in base['flops_not_counted'])
    assert any('WeightedGather' in op for op in panet['flops_not_counted'])
    comp = panet['components']
    assert comp['afp_extractor_ms'] > 0 and comp['plain_roi_align_ms'] > 0
    assert comp['ratio'] == pytest.approx(comp['afp_extractor_ms'] /
                                          comp['plain_roi_align_ms'])
    assert 'components' not in base or not base['components']
    for r in (base, panet):  # top 3 operators, largest first
        prof = r['predict_profile']
        assert len(prof) == 3
        assert [e['self_ms'] for e in prof] == sorted(
            (e['self_ms'] for e in prof), reverse=True)
        assert all(0 < e['share'] <= 1 and e['calls'] > 0 for e in prof)
    text = (tmp_path / 'benchmark.md').read_text()
    assert '1.00x' in text and 'panet_r18' in text
    assert 'predict step, top operators' in text


def test_benchmark_needs_two_configs():
    with pytest.raises(SystemExit):
        benchmark.main(CONFIGS[:1])


def test_memory_probe_does_not_inherit_parent_peak():
    """A probe reports its own peak, not the launching process's RSS (which
    ``ru_maxrss`` would carry over through fork and exec)."""
    import torch
    ballast = torch.ones(2**29)  # 2 GiB, touched
    parent_mb = proc_status_mb('VmRSS')
    probe = measure_memory(CONFIGS[1], Settings(img_size=(96, 128)))
    assert ballast.sum() > 0
    assert probe['rss_model_built_mb'] < probe['rss_peak_mb']
    assert probe['rss_peak_mb'] < parent_mb - 1024


def test_benchmark_compares_fp32_and_amp_side_by_side(tmp_path):
    benchmark.main(CONFIGS + [
        '--img-size', '96', '128', '--num-images', '1', '--repeats', '1',
        '--warmup', '1', '--train-iters', '1', '--num-dets', '7',
        '--compare-amp', '--skip-memory', '--skip-flops', '--out-dir',
        str(tmp_path)
    ])
    result = json.loads((tmp_path / 'benchmark.json').read_text())
    assert [
        (osp.basename(c), r['amp'])
        for c, r in zip([CONFIGS[0]] * 2 + [CONFIGS[1]] * 2, result['results'])
    ] == [(r['config'], amp)
          for r, amp in zip(result['results'], [False, True] * 2)]
    for r in result['results']:
        assert r['latency_ms']['median'] > 0 and r['train_iter_s']['median']
    run = result['run']
    assert run['command'].startswith('tools/analysis_tools/benchmark.py')
    assert run['commit'] and run['machine']['cpu']
    assert 0 <= run['cpu_busy_percent'] <= 100
    text = (tmp_path / 'benchmark.md').read_text()
    assert '| bf16 |' in text and 'latency vs fp32' in text
