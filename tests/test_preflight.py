# Copyright (c) mmpanet contributors. All rights reserved.
"""The preflight checks, each with its problem planted, on a copy of the
tiny dataset; and tools/train.py stopping on them before building."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from tool_utils import load_tool

from mmpanet.engine.checkpoint import download_cache
from mmpanet.utils.preflight import (PreflightError, check_batch,
                                     check_channels, check_data, check_weights,
                                     checkpoint_url, run_preflight)

CONFIG = 'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py'
preflight_tool = load_tool('tools/misc/preflight.py')


@pytest.fixture
def data_copy(tmp_path, shapes_data):
    """A writable copy of the tiny dataset as ``data/shapes`` in a cwd."""
    shutil.copytree(shapes_data, tmp_path / 'data' / 'shapes')
    cwd = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path / 'data' / 'shapes'
    os.chdir(cwd)


def load(root, **options):
    cfg = Config.fromfile(osp.join(root, CONFIG))
    cfg.merge_from_dict(options)
    return cfg


def problems_of(cfg, **kwargs):
    with pytest.raises(PreflightError) as info:
        run_preflight(cfg, **kwargs)
    return info.value


def test_ready_config_passes(data_copy, root):
    cfg = load(root)
    run_preflight(cfg, 'train')
    run_preflight(cfg, 'test')
    assert preflight_tool.main([osp.join(root, CONFIG)]) == 0


def test_missing_annotation_file_names_key_and_path(data_copy, root):
    os.remove(data_copy / 'annotations' / 'instances_train.json')
    problems = check_data(load(root), 'train')
    assert len(problems) == 1
    assert problems[0].where == 'train_dataloader.dataset.ann_file'
    assert 'data/shapes/annotations/instances_train.json does not exist' in \
        problems[0].what
    assert 'ln -s' in problems[0].fix and 'data_root' in problems[0].fix


def test_missing_image_folder(data_copy, root):
    cfg = load(root, **{'train_dataloader.dataset.data_prefix.img': 'images/'})
    problems = check_data(cfg, 'train')
    assert [p.where for p in problems] == \
        ['train_dataloader.dataset.data_prefix.img']
    assert 'data/shapes/images' in problems[0].what


def test_image_that_does_not_decode(data_copy, root):
    ann = (data_copy / 'annotations' / 'instances_val.json').read_text()
    first = ann.split('"file_name": "')[1].split('"')[0]
    (data_copy / first).write_bytes(b'not an image')
    problems = check_data(load(root), 'train')
    assert len(problems) == 1
    assert first in problems[0].where and 'val_dataloader' in \
        problems[0].where
    assert 'does not decode' in problems[0].what
    # and test mode reads the same val set
    assert len(check_data(load(root), 'test')) == 1


def test_missing_evaluator_annotation_file(data_copy, root):
    cfg = load(root, **{'val_evaluator.ann_file': 'data/shapes/nope.json'})
    problems = check_data(cfg, 'train')
    assert [p.where for p in problems] == ['val_evaluator.ann_file']


def pretrained(root, checkpoint):
    cfg = load(root)
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=checkpoint)
    return cfg


def test_uncached_weights_on_unreachable_host(data_copy, root, tmp_path,
                                              monkeypatch):
    """Preflight names the folder torch reads downloads from, and a file
    put there (not in the old $TORCH_HOME/checkpoints) satisfies it."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    url = 'http://127.0.0.1:9/weights/r18-w32.pth'
    problems = check_weights(pretrained(root, url), timeout=1)
    assert len(problems) == 1
    cached = download_cache(url)
    assert cached == str(tmp_path / 'torch' / 'hub' / 'checkpoints' /
                         'r18-w32.pth')
    assert problems[0].where == 'model.backbone.init_cfg.checkpoint'
    assert 'cannot be reached' in problems[0].what
    assert cached in problems[0].fix
    assert problems[0].fix.endswith(
        'or set model.backbone.init_cfg.checkpoint to a local .pth file')
    # a file in $TORCH_HOME/checkpoints, which torch never reads: still
    # reported
    wrong = tmp_path / 'torch' / 'checkpoints' / 'r18-w32.pth'
    os.makedirs(wrong.parent)
    wrong.write_bytes(b'')
    assert len(check_weights(pretrained(root, url), timeout=1)) == 1
    # placed where preflight says: no problem
    os.makedirs(osp.dirname(cached))
    open(cached, 'wb').close()
    assert check_weights(pretrained(root, url), timeout=1) == []
    assert torch.hub.get_dir() == str(tmp_path / 'torch' / 'hub')


def test_checkpoint_names_resolve_as_mmengine_does():
    assert checkpoint_url('open-mmlab://detectron/resnet50_caffe') == \
        checkpoint_url('open-mmlab://resnet50_caffe')  # a deprecated alias
    assert checkpoint_url('open-mmlab://resnet50_caffe').startswith(
        'https://download.openmmlab.com/')
    assert checkpoint_url('work/r18.pth') == 'work/r18.pth'


def test_missing_local_and_unknown_weights(data_copy, root):
    problems = check_weights(pretrained(root, 'nowhere/r18.pth'))
    assert 'nowhere/r18.pth does not exist' in problems[0].what
    problems = check_weights(pretrained(root, 'open-mmlab://no_such_model'))
    assert 'names no model' in problems[0].what


def test_torchvision_scheme_without_torchvision(data_copy, root, monkeypatch):
    monkeypatch.setitem(sys.modules, 'torchvision', None)  # not installed
    problems = check_weights(pretrained(root, 'torchvision://resnet18'))
    assert 'needs torchvision' in problems[0].what
    assert 'pip install torchvision' in problems[0].fix


def test_batch_against_processes(root):
    cfg = load(root)  # 4 images per process, base_batch_size 4
    assert check_batch(cfg, 1, False) == []
    problems = check_batch(cfg, 2, False)
    assert problems[0].where == 'train_dataloader.batch_size'
    assert '2 process(es) x 4 images = 8' in problems[0].what
    assert '--auto-scale-lr' in problems[0].fix
    assert check_batch(cfg, 2, True) == []


def test_neck_channels_against_backbone(root):
    assert check_channels(load(root)) == []
    cfg = load(root, **{'model.neck.in_channels': [256, 512, 1024, 2048]})
    problems = check_channels(cfg)
    assert problems[0].where == 'model.neck.in_channels'
    assert '[256, 512, 1024, 2048]' in problems[0].what
    assert 'gives [32, 64, 128, 256] channels' in problems[0].what
    assert problems[0].fix == 'set model.neck.in_channels=[32, 64, 128, 256]'


def test_every_problem_in_one_message(data_copy, root):
    os.remove(data_copy / 'annotations' / 'instances_train.json')
    cfg = load(root, **{'model.neck.in_channels': [256, 512, 1024, 2048]})
    error = problems_of(cfg, mode='train', world_size=2)
    assert [p.where for p in error.problems] == [
        'train_dataloader.dataset.ann_file', 'train_dataloader.batch_size',
        'model.neck.in_channels'
    ]
    assert str(error).startswith('preflight found 3 problem(s)')


def test_train_and_test_stop_before_building(data_copy, root):
    os.remove(data_copy / 'annotations' / 'instances_train.json')
    env = dict(os.environ)
    for tool, extra in (('tools/train.py', []), ('tools/test.py',
                                                 ['missing.pth'])):
        proc = subprocess.run(
            [sys.executable,
             osp.join(root, tool),
             osp.join(root, CONFIG)] + extra + ['--work-dir', 'wd'],
            capture_output=True,
            text=True,
            env=env,
            timeout=300)
        assert proc.returncode != 0
        if tool == 'tools/train.py':
            assert proc.returncode == 1
            assert 'preflight found 1 problem(s)' in proc.stderr
            assert 'train_dataloader.dataset.ann_file' in proc.stderr
            assert 'Traceback' not in proc.stderr
            assert not osp.exists('wd')  # no runner was built
        else:  # the checkpoint is checked before anything else
            assert 'checkpoint file not found: missing.pth' in proc.stderr
    code = preflight_tool.main([osp.join(root, CONFIG)])
    assert code == 1
