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
