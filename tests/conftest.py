# Copyright (c) mmpanet contributors. All rights reserved.
import os
import os.path as osp

import pytest
import torch
from mmdet.utils import register_all_modules

import mmpanet  # noqa: F401  (registers the modules)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

register_all_modules(init_default_scope=True)
torch.set_num_threads(2)


@pytest.fixture
def root():
    return ROOT


@pytest.fixture(scope='session')
def shapes_data(tmp_path_factory):
    """A tiny generated shapes dataset shared by the training tests."""
    from mmpanet.datasets import generate_shapes_dataset
    out = tmp_path_factory.mktemp('shapes')
    generate_shapes_dataset(
        str(out), num_train=8, num_val=4, img_size=(96, 96), seed=3)
    return str(out)


@pytest.fixture
def workspace(tmp_path, shapes_data):
    """A cwd with data/shapes, as the configs expect."""
    os.makedirs(tmp_path / 'data')
    os.symlink(shapes_data, tmp_path / 'data' / 'shapes')
    return tmp_path


@pytest.fixture(scope='session')
def trained_main_job(tmp_path_factory, shapes_data):
    """The main job's model trained 120 iterations on the tiny data, enough
    for confident detections: ``(cwd with data/shapes, checkpoint)``."""
    from tool_utils import main_job_config, run_tool
    cwd = tmp_path_factory.mktemp('main_job')
    os.makedirs(cwd / 'data')
    os.symlink(shapes_data, cwd / 'data' / 'shapes')
    options = [
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'auto_scale_lr.base_batch_size=2', 'train_cfg.max_iters=120',
        'train_cfg.val_interval=120', 'default_hooks.checkpoint.interval=120',
        'param_scheduler.0.end=10', 'param_scheduler.1.end=120',
        'param_scheduler.1.milestones=[100]',
        'optim_wrapper.optimizer.lr=3e-3', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None'
    ]
    run_tool([
        osp.join(ROOT, 'tools', 'train.py'),
        osp.join(ROOT, main_job_config()), '--work-dir', 'wd', '--cfg-options'
    ] + options, cwd)
    return cwd, str(cwd / 'wd' / 'iter_120.pth')
