# Copyright (c) mmpanet contributors. All rights reserved.
"""Entry points end to end on a tiny generated dataset: tools/train.py,
tools/test.py on a local checkpoint, `mim train` / `mim test`, and
tools/infer.py (resume: test_reliability.py)."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

from tool_utils import main_job_config

CONFIG = main_job_config()
FAST = [
    'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'train_dataloader.dataset.pipeline.2.scale=(96,96)',
    'val_dataloader.dataset.pipeline.1.scale=(96,96)',
    'test_dataloader.dataset.pipeline.1.scale=(96,96)',
    'default_hooks.logger.interval=1',
    'auto_scale_lr.base_batch_size=2',  # the batch above
]


def iters(n, ckpt_every=None):
    return [
        f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
        f'default_hooks.checkpoint.interval={ckpt_every or n}',
        'param_scheduler.0.end=1', f'param_scheduler.1.end={n}'
    ]


def run(cmd, cwd):
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    # the tools load safely with no environment variable
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


def last_log(work_dir):
    """The runner's text log, relative to ``work_dir``."""
    logs = sorted(
        osp.relpath(osp.join(dp, f), work_dir)
        for dp, _, fs in os.walk(work_dir) for f in fs if f.endswith('.log'))
    return logs[-1]


def train_losses(work_dir):
    """Per-iteration losses from the json log mmengine writes."""
    logs = [
        osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs
        if f.endswith('.json') and f[0].isdigit()
    ]
    out = {}
    for log in logs:
        with open(log) as f:
            for line in f:
                rec = json.loads(line)
                if 'loss' in rec and 'iter' in rec:
                    out[rec['iter']] = rec['loss']
    return out


def test_train_and_test(workspace, root):
    py = sys.executable
    train = osp.join(root, 'tools', 'train.py')
    config = osp.join(root, CONFIG)
    wd = str(workspace / 'run')
    run([py, train, config, '--work-dir', wd, '--cfg-options'] + FAST +
        iters(4, ckpt_every=2), workspace)
    assert osp.isfile(osp.join(wd, 'iter_4.pth'))
    full = train_losses(wd)
    assert sorted(full) == [1, 2, 3, 4]
    # the config dumped into the work dir states the engine that ran
    from mmengine.config import Config
    dumped = Config.fromfile(osp.join(wd, osp.basename(CONFIG)))
    assert dumped.runner_type == 'mmdet.PANetRunner'
    assert dumped.model_wrapper_cfg.type == \
        'mmdet.DeviceAwareDistributedDataParallel'
    assert 'PANetRunner' in open(osp.join(wd, last_log(wd))).read()

    # test a local checkpoint: COCO metrics come out
    out = run([
        py,
        osp.join(root, 'tools', 'test.py'), config,
        osp.join(wd, 'iter_4.pth'), '--work-dir',
        str(workspace / 'test'), '--cfg-options'
    ] + FAST, workspace)
    assert 'coco/segm_mAP' in out and 'coco/bbox_mAP' in out
    with open(workspace / 'test' / 'metrics.json') as f:
        metrics = json.load(f)
    assert 0 <= metrics['coco/segm_mAP'] <= 1

    # the same checkpoint with test-time augmentation (the config's
    # tta_model / tta_pipeline: 4 scales x flip, mask and box voting)
    out = run([
        py,
        osp.join(root, 'tools', 'test.py'), config,
        osp.join(wd, 'iter_4.pth'), '--tta', '--work-dir',
        str(workspace / 'test_tta'), '--cfg-options'
    ] + FAST, workspace)
    assert 'coco/segm_mAP' in out and 'InstanceSegTTAModel' in out
    with open(workspace / 'test_tta' / 'metrics.json') as f:
        assert 0 <= json.load(f)['coco/segm_mAP'] <= 1

    # inference on a user's own image (any file name, any folder)
    own = workspace / 'mine'
    os.makedirs(own)
    shutil.copy(workspace / 'data' / 'shapes' / 'val' / '00000.png',
                own / 'photo.png')
    out = run([
        py,
        osp.join(root, 'tools', 'infer.py'),
        str(own / 'photo.png'), config,
        osp.join(wd, 'iter_4.pth'), '--out-dir',
        str(workspace / 'infer'), '--score-thr', '0.0'
    ], workspace)
    assert (workspace / 'infer' / 'vis' / 'photo.png').stat().st_size > 0
    with open(workspace / 'infer' / 'preds' / 'photo.json') as f:
        pred = json.load(f)
    assert {'labels', 'scores', 'bboxes', 'masks'} <= set(pred)
    out = run([
        py,
        osp.join(root, 'tools', 'infer.py'),
        str(own / 'photo.png'), config,
        osp.join(wd, 'iter_4.pth'), '--out-dir',
        str(workspace / 'infer_tta'), '--score-thr', '0.0', '--tta'
    ], workspace)
    with open(workspace / 'infer_tta' / 'preds' / 'photo.json') as f:
        assert {'labels', 'scores', 'bboxes', 'masks'} <= set(json.load(f))


def test_mim_train_and_test(workspace, root):
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    wd = str(workspace / 'mim_run')
    out = run([
        mim, 'train', 'mmpanet',
        osp.basename(CONFIG), '--work-dir', wd, '--cfg-options'
    ] + FAST + iters(2), workspace)
    assert 'we find the config file in codebase mmpanet' in out
    assert osp.isfile(osp.join(wd, 'iter_2.pth'))
    out = run([
        mim, 'test', 'mmpanet',
        osp.basename(CONFIG), '--checkpoint',
        osp.join(wd, 'iter_2.pth'), '--work-dir', wd, '--cfg-options'
    ] + FAST, workspace)
    assert osp.isfile(osp.join(wd, 'metrics.json'))


def test_test_py_names_what_an_ensemble_or_tta_needs(root, tmp_path):
    ensemble = osp.join(
        root, 'configs/panet/panet-ensemble_x101-64x4d-dconv-c3-c5_pafpn-'
        'relu_rbl-mst-mbn-160k-tta_coco.py')
    proc = subprocess.run(
        [sys.executable,
         osp.join(root, 'tools', 'test.py'), ensemble],
        cwd=tmp_path,
        capture_output=True,
        text=True)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert "model.type='DetectorEnsemble') is tested with --tta" in \
        proc.stderr
