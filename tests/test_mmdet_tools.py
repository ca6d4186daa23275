# Copyright (c) mmpanet contributors. All rights reserved.
"""The project's configs under MMDetection's own tools, as a user who works
with mmdet or mim would run them: the installed mmdet's tools/train.py,
tools/test.py (also with --tta), dist_train.sh, `mim train/test mmdet`,
DetInferencer and init_detector from the config alone, and mmdet's analysis
tools on what these runs wrote. Nothing imports mmpanet but the configs'
``custom_imports``."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import mmdet
import pytest
from tool_utils import ROOT, main_job_config

MMDET_TOOLS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools')
CONFIG = osp.join(ROOT, main_job_config())
BIN = osp.dirname(sys.executable)
LOADERS = [
    f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
    for key in ('num_workers=0', 'persistent_workers=False')
]
FAST = LOADERS + [
    'train_dataloader.batch_size=2', 'auto_scale_lr.base_batch_size=2',
    'default_hooks.logger.interval=1', 'param_scheduler.0.end=1'
]


def iters(n):
    return [
        f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
        f'default_hooks.checkpoint.interval={n}', f'param_scheduler.1.end={n}'
    ]


def run(cmd, cwd, **env):
    # the venv's python and mim first on PATH, as after `source
    # .venv/bin/activate`; dist_train.sh runs `python`
    env = dict(
        os.environ,
        PATH=BIN + os.pathsep + os.environ['PATH'],
        MPLBACKEND='Agg',
        PYTHONUNBUFFERED='1',
        **env)
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def logged_metrics(work_dir):
    """The metrics mmengine's logger wrote in ``work_dir``'s json log."""
    logs = glob.glob(osp.join(work_dir, '*', '2*.json')) + glob.glob(
        osp.join(work_dir, '*', 'vis_data', '2*.json'))
    records = [json.loads(line) for log in logs for line in open(log)]
    return {k: v for r in records for k, v in r.items() if '/' in k}


@pytest.fixture(scope='module')
def mmdet_run(tmp_path_factory, shapes_data):
    """mmdet's tools/train.py on the main job's config, 4 iterations, from
    a working directory outside the repository."""
    cwd = tmp_path_factory.mktemp('user')
    os.makedirs(cwd / 'data')
    os.symlink(shapes_data, cwd / 'data' / 'shapes')
    out = run([
        sys.executable,
        osp.join(MMDET_TOOLS, 'train.py'), CONFIG, '--work-dir', 'train',
        '--cfg-options'
    ] + FAST + iters(4), cwd)
    assert 'PANetRunner' in out
    return cwd


def test_mmdet_train_then_test_with_and_without_tta(mmdet_run):
    cwd = mmdet_run
    ckpt = str(cwd / 'train' / 'iter_4.pth')
    assert osp.isfile(ckpt)
    run([
        sys.executable,
        osp.join(MMDET_TOOLS, 'test.py'), CONFIG, ckpt, '--work-dir', 'test',
        '--out', 'test/results.pkl', '--cfg-options'
    ] + LOADERS, cwd)
    metrics = logged_metrics(cwd / 'test')
    assert 0 <= metrics['coco/segm_mAP'] <= 1
    assert 0 <= metrics['coco/bbox_mAP'] <= 1
    out = run([
        sys.executable,
        osp.join(MMDET_TOOLS, 'test.py'), CONFIG, ckpt, '--tta', '--work-dir',
        'test_tta', '--cfg-options'
    ] + LOADERS, cwd)
    assert 'InstanceSegTTAModel' in out
    assert 0 <= logged_metrics(cwd / 'test_tta')['coco/segm_mAP'] <= 1


def test_mmdet_analysis_tools_on_those_runs(mmdet_run):
    cwd = mmdet_run
    analysis = osp.join(MMDET_TOOLS, 'analysis_tools')
    if not osp.isfile(cwd / 'test' / 'results.pkl'):
        test_mmdet_train_then_test_with_and_without_tta(mmdet_run)
    # results of test.py --out (a pickle, read by mmpanet's safe loader)
    run([
        sys.executable,
        osp.join(analysis, 'confusion_matrix.py'), CONFIG, 'test/results.pkl',
        'confusion', '--cfg-options'
    ] + LOADERS, cwd)
    assert (cwd / 'confusion' / 'confusion_matrix.png').stat().st_size > 0
    # the training log (iteration based: one "epoch" for mmdet's tool)
    log = glob.glob(str(cwd / 'train' / '*' / 'vis_data' / '2*.json'))[0]
    out = run([
        sys.executable,
        osp.join(analysis, 'analyze_logs.py'), 'cal_train_time', log
    ], cwd)
    assert 'average iter time' in out
    run([
        sys.executable,
        osp.join(analysis, 'analyze_logs.py'), 'plot_curve', log, '--keys',
        'loss', '--out', 'loss.png'
    ], cwd)
    assert (cwd / 'loss.png').stat().st_size > 0
    out = run([
        sys.executable,
        osp.join(analysis, 'get_flops.py'), CONFIG, '--num-images', '1',
        '--cfg-options'
    ] + LOADERS, cwd)
    assert 'Flops:' in out and 'Params:' in out
    run([
        sys.executable,
        osp.join(analysis, 'browse_dataset.py'), CONFIG, '--output-dir',
        'browse', '--not-show', '--cfg-options'
    ] + LOADERS, cwd)
    assert len(os.listdir(cwd / 'browse')) == 8  # the tiny train set


def test_mmdet_apis_from_the_config_alone(mmdet_run):
    cwd = mmdet_run
    script = f'''
import sys
from mmdet.apis import DetInferencer, inference_detector, init_detector
model = init_detector({CONFIG!r}, 'train/iter_4.pth', device='cpu')
assert 'mmpanet' in sys.modules  # imported by the config
assert type(model.roi_head.bbox_head).__name__ == 'AFPShared4Conv1FCBBoxHead'
result = inference_detector(model, 'data/shapes/val/00000.png')
inferencer = DetInferencer(model={CONFIG!r}, weights='train/iter_4.pth',
                           device='cpu')
out = inferencer('data/shapes/val/00000.png', no_save_pred=True)
print('detections', len(result.pred_instances),
      len(out['predictions'][0]['scores']))
'''
    assert 'detections' in run([sys.executable, '-c', script], cwd)


def test_mim_train_and_test_mmdet(mmdet_run):
    cwd = mmdet_run
    out = run([
        'mim', 'train', 'mmdet', CONFIG, '--work-dir', 'mim', '--cfg-options'
    ] + FAST + iters(2), cwd)
    assert 'Training finished successfully' in out
    out = run([
        'mim', 'test', 'mmdet', CONFIG, '--checkpoint', 'mim/iter_2.pth',
        '--work-dir', 'mim_test', '--cfg-options'
    ] + LOADERS, cwd)
    assert 'Testing finished successfully' in out
    assert 0 <= logged_metrics(cwd / 'mim_test')['coco/segm_mAP'] <= 1


def test_mmdet_dist_train_on_two_cpu_processes(mmdet_run):
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    cwd = mmdet_run
    out = run(
        [
            'bash',
            osp.join(MMDET_TOOLS, 'dist_train.sh'), CONFIG, '2', '--work-dir',
            'dist', '--cfg-options'
        ] + FAST + iters(2) + ['auto_scale_lr.base_batch_size=4'],
        cwd,
        PORT=str(port),
        OMP_NUM_THREADS='1')
    assert 'Distributed training: True' in out
    assert osp.isfile(cwd / 'dist' / 'iter_2.pth')
