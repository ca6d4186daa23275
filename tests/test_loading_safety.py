# Copyright (c) mmpanet contributors. All rights reserved.
"""Files you did not make: each hostile file is made here and loaded the way
a user would load it; nothing it names runs, and the error says what was
refused and how to opt in. The project's own checkpoints load through
mmdet's APIs as the docs show."""
import functools
import hashlib
import http.server
import io
import json
import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys
import threading
import zipfile

import mmengine
import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.structures import InstanceData
from tool_utils import ROOT, main_job_config

import mmpanet
from mmpanet.engine.checkpoint import (DownloadHashError,
                                       UntrustedCheckpointError, load)
from mmpanet.engine.runner import drop_unsafe_entries

CONFIG = main_job_config()
FAST = [
    'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'train_dataloader.dataset.pipeline.2.scale=(96,96)',
    'val_dataloader.dataset.pipeline.1.scale=(96,96)',
    'test_dataloader.dataset.pipeline.1.scale=(96,96)',
    'auto_scale_lr.base_batch_size=2', 'param_scheduler.0.end=1'
]


def iters(n):
    return [
        f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
        f'default_hooks.checkpoint.interval={n}', f'param_scheduler.1.end={n}'
    ]


class Payload:
    """Unpickling it runs ``touch MARKER``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class StorageBytes:
    """Pickles as a tensor storage does: torch.load of the bytes."""

    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return torch.storage._load_from_bytes, (self.data, )


def run(args, cwd, ok=True):
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)  # none is needed
    proc = subprocess.run(
        [sys.executable] + args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    out = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == ok, out[-4000:]
    return proc


@pytest.fixture(scope='module')
def trained(tmp_path_factory, shapes_data):
    """A checkpoint the project's own train.py saved (2 iterations)."""
    cwd = tmp_path_factory.mktemp('trained')
    os.makedirs(cwd / 'data')
    os.symlink(shapes_data, cwd / 'data' / 'shapes')
    run([
        tool('train.py'),
        osp.join(ROOT, CONFIG), '--work-dir', 'wd', '--cfg-options'
    ] + FAST + iters(2), cwd)
    return cwd, str(cwd / 'wd' / 'iter_2.pth')


def tool(name):
    return osp.join(ROOT, 'tools', name)


def one_line_error(proc):
    """The tool's message: its last line, no traceback."""
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    return proc.stderr.strip().splitlines()[-1]


# ------------------------------------------------------------ checkpoints
def test_runner_checkpoint_loads_without_a_full_unpickle(trained):
    _, ckpt = trained
    checkpoint = CheckpointLoader.load_checkpoint(ckpt)
    hub = checkpoint['message_hub']
    assert hub['log_scalars']['train/loss'].mean() > 0  # a HistoryBuffer
    assert len(hub['runtime_info']['random_states']) == 1
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ


def test_readme_python_examples_on_the_projects_checkpoint(trained):
    """import mmpanet, then mmdet's APIs: no environment variable, no
    weights_only=False."""
    cwd, ckpt = trained
    script = f'''
import mmpanet
from mmdet.apis import DetInferencer, init_detector, inference_detector
inferencer = DetInferencer(model={osp.join(ROOT, CONFIG)!r},
                           weights={ckpt!r}, device='cpu')
result = inferencer('data/shapes/val/00000.png', out_dir='outputs')
assert len(result['predictions'][0]['scores']) > 0
model = init_detector({osp.join(ROOT, CONFIG)!r}, {ckpt!r}, device='cpu')
print('detections', len(inference_detector(
    model, 'data/shapes/val/00000.png').pred_instances))
'''
    proc = run(['-c', script], cwd)
    assert 'detections' in proc.stdout
    assert os.listdir(cwd / 'outputs' / 'vis')


@pytest.fixture
def payload_checkpoint(tmp_path):
    marker = tmp_path / 'RAN'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta={}, extra=Payload(marker)), str(path))
    return str(path), marker


@pytest.mark.parametrize('which', ['test', 'infer'])
def test_tools_refuse_a_code_running_checkpoint(trained, which,
                                                payload_checkpoint):
    cwd, _ = trained
    evil, marker = payload_checkpoint
    config = osp.join(ROOT, CONFIG)
    args = {
        'test': ['tools/test.py', config, evil, '--work-dir', 'wd_evil'],
        'infer': [
            'tools/infer.py', 'data/shapes/val/00000.png', config, evil,
            '--out-dir', 'out_evil'
        ]
    }[which]
    args[0] = osp.join(ROOT, args[0])
    line = one_line_error(run(args, cwd, ok=False))
    assert line.startswith('error: ') and 'posix.system' in line
    assert f'--trust-checkpoint {evil}' in line
    assert not marker.exists()
    # the explicit opt-in for this one file does unpickle it
    run(args + ['--trust-checkpoint', evil], cwd)
    assert marker.exists()


def test_mmdet_apis_refuse_it_too(payload_checkpoint):
    from mmdet.apis import init_detector
    evil, marker = payload_checkpoint
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        init_detector(osp.join(ROOT, CONFIG), evil, device='cpu')
    assert not marker.exists()


def test_getattr_is_only_historybuffers(tmp_path):
    """A file reaching for anything but HistoryBuffer's statistics through
    the allow-listed name ``builtins.getattr`` is refused."""
    from mmengine.logging import HistoryBuffer

    class ViaGetattr:

        def __reduce__(self):
            return getattr, (HistoryBuffer, 'register_statistics')

    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(x=ViaGetattr()), path)
    with pytest.raises(UntrustedCheckpointError):
        load(path)


def test_numpy_1x_checkpoint_names_load(trained, tmp_path):
    """Files written under numpy 1.x name numpy.core.*."""
    _, ckpt = trained
    old = str(tmp_path / 'numpy1.pth')
    with zipfile.ZipFile(ckpt) as src, zipfile.ZipFile(old, 'w') as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith('data.pkl'):
                assert b'numpy._core.multiarray' in data
                data = data.replace(b'numpy._core.multiarray',
                                    b'numpy.core.multiarray')
            dst.writestr(item, data)
    checkpoint = load(old)
    assert isinstance(
        checkpoint['message_hub']['runtime_info']['random_states'][0]['numpy']
        [1], np.ndarray)


def test_resume_runs_no_stored_config_and_deletes_no_stored_path(
        trained, tmp_path):
    cwd, ckpt = trained
    marker = tmp_path / 'CONFIG_RAN'
    victim = tmp_path / 'precious.pth'
    victim.write_bytes(b'keep me')
    checkpoint = CheckpointLoader.load_checkpoint(ckpt)
    checkpoint['meta']['config'] = f'import os\nos.system("touch {marker}")'
    info = checkpoint['message_hub']['runtime_info']
    info['best_ckpt'] = str(victim)
    info['best_score'] = -1.0
    hostile = str(cwd / 'wd_resume' / 'iter_2.pth')
    os.makedirs(osp.dirname(hostile))
    torch.save(checkpoint, hostile)
    run([
        tool('train.py'),
        osp.join(ROOT, CONFIG), '--work-dir', 'wd_resume', '--resume', hostile,
        '--cfg-options'
    ] + FAST + iters(3) + ['default_hooks.checkpoint.save_best=auto'], cwd)
    assert osp.isfile(cwd / 'wd_resume' / 'iter_3.pth')
    assert not marker.exists()
    assert victim.read_bytes() == b'keep me'


def test_drop_unsafe_entries_keeps_the_work_dirs_own(tmp_path):
    own = str(tmp_path / 'best_coco_bbox_mAP_iter_2.pth')
    checkpoint = dict(
        meta=dict(config='print(1)', iter=2),
        message_hub=dict(
            runtime_info=dict(
                best_ckpt=own,
                best_ckpt_segm='/etc/passwd',
                keep_ckpt_ids=['../../x'])))
    info = drop_unsafe_entries(checkpoint,
                               str(tmp_path))['message_hub']['runtime_info']
    assert info == dict(best_ckpt=own)
    assert checkpoint['meta'] == dict(iter=2)


# -------------------------------------------------------------- downloads
@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server over ``tmp_path/served``; TORCH_HOME in tmp."""
    served = tmp_path / 'served'
    served.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()


def weights_file(path):
    torch.save(dict(state_dict=dict(w=torch.arange(4.))), str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_checked_against_its_pinned_sha256(server):
    served, base = server
    sha = weights_file(served / 'w.pth')
    cache = osp.join(torch.hub.get_dir(), 'checkpoints', 'w.pth')
    wrong = '0' * 64
    with pytest.raises(DownloadHashError) as e:
        CheckpointLoader.load_checkpoint(f'{base}/w.pth#sha256={wrong}')
    assert f'expected {wrong}, got {sha}' in str(e.value)
    assert not osp.exists(cache)  # never put where it would be loaded from
    # unpinned: refused, unless trusted for this run
    with pytest.raises(DownloadHashError, match='no SHA-256 is pinned'):
        CheckpointLoader.load_checkpoint(f'{base}/w.pth')
    with mmpanet.trusted_checkpoint(f'{base}/w.pth'):
        assert CheckpointLoader.load_checkpoint(f'{base}/w.pth')
    os.remove(cache)
    ok = CheckpointLoader.load_checkpoint(f'{base}/w.pth#sha256={sha}')
    assert ok['state_dict']['w'].tolist() == [0, 1, 2, 3]
    assert osp.isfile(cache)
    # a cached file that changed since is refused, and left for the user
    with open(cache, 'ab') as f:
        f.write(b'tampered')
    with pytest.raises(DownloadHashError, match=f'expected {sha}'):
        CheckpointLoader.load_checkpoint(f'{base}/w.pth#sha256={sha}')


def test_torch_hub_names_pin_their_hash_prefix(server):
    served, base = server
    sha = weights_file(served / 'w.pth')
    shutil.copy(served / 'w.pth', served / f'net-{sha[:8]}.pth')
    shutil.copy(served / 'w.pth', served / 'net-deadbeef.pth')
    assert CheckpointLoader.load_checkpoint(f'{base}/net-{sha[:8]}.pth')
    with pytest.raises(DownloadHashError, match='expected deadbeef'):
        CheckpointLoader.load_checkpoint(f'{base}/net-deadbeef.pth')


def test_train_stops_on_a_bad_hash_in_one_line(server, workspace):
    served, base = server
    weights_file(served / 'r18.pth')
    url = f'{base}/r18.pth#sha256={"1" * 64}'
    proc = run(
        [
            tool('train.py'),
            osp.join(ROOT, CONFIG), '--work-dir', 'wd', '--cfg-options'
        ] + FAST + iters(1) + [f'load_from={url}'],
        workspace,
        ok=False)
    line = one_line_error(proc)
    assert 'SHA-256 mismatch' in line and f'expected {"1" * 64}' in line


# ---------------------------------------------------------------- pickles
def test_proposal_files_load_without_unpickling_code(tmp_path):
    proposals = {
        'val/00000.png':
        InstanceData(
            bboxes=np.zeros((3, 4), np.float32), scores=np.ones(3,
                                                                np.float32)),
        'val/00001.png':
        dict(bboxes=torch.zeros(2, 4), scores=np.float64(1.0))
    }
    mmengine.dump(proposals, str(tmp_path / 'ok.pkl'))
    back = mmengine.load(str(tmp_path / 'ok.pkl'))
    assert back['val/00000.png'].bboxes.shape == (3, 4)
    assert back['val/00001.png']['bboxes'].shape == (2, 4)
    # a file written under numpy 1.x
    data = pickle.dumps(
        dict(a=np.arange(3)), protocol=2).replace(b'numpy._core.multiarray',
                                                  b'numpy.core.multiarray')
    (tmp_path / 'np1.pkl').write_bytes(data)
    assert mmengine.load(str(tmp_path / 'np1.pkl'))['a'].tolist() == [0, 1, 2]
    # code, directly or through a tensor's bytes
    marker = tmp_path / 'RAN'
    mmengine.dump({'val/00000.png': Payload(marker)}, str(tmp_path / 'x.pkl'))
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        mmengine.load(str(tmp_path / 'x.pkl'))
    buffer = io.BytesIO()
    torch.save(Payload(marker), buffer)
    (tmp_path / 'y.pkl').write_bytes(
        pickle.dumps(dict(proposals=StorageBytes(buffer.getvalue()))))
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        mmengine.load(str(tmp_path / 'y.pkl'))
    assert not marker.exists()


# ------------------------------------------------------------ annotations
def bad_annotations(data, edit):
    """Copy of the tiny dataset with ``edit(annotations)`` applied to the
    val file."""
    path = data / 'annotations' / 'instances_val.json'
    coco = json.loads(path.read_text())
    edit(coco['annotations'])
    path.write_text(json.dumps(coco))
    return coco['annotations']


@pytest.mark.parametrize('fault', ['no_segmentation', 'short_polygons'])
def test_test_py_names_bad_annotations_in_seconds(workspace, shapes_data,
                                                  trained, fault):
    _, ckpt = trained
    os.remove(workspace / 'data' / 'shapes')
    shutil.copytree(shapes_data, workspace / 'data' / 'shapes')

    def edit(anns):
        if fault == 'no_segmentation':
            del anns[1]['segmentation']
        else:
            anns[1]['segmentation'] = [[1, 1, 5, 5]]
            anns[2]['segmentation'] = [[3, 3]]

    anns = bad_annotations(workspace / 'data' / 'shapes', edit)
    proc = run(
        [
            tool('test.py'),
            osp.join(ROOT, CONFIG), ckpt, '--work-dir', 'wd', '--cfg-options'
        ] + FAST,
        workspace,
        ok=False)
    out = proc.stderr
    assert 'Traceback' not in out and len(out.splitlines()) < 20, out
    assert 'instances_val.json' in out
    assert f'annotation {anns[1]["id"]} ' in out
    if fault == 'no_segmentation':
        assert 'has no segmentation' in out
    else:
        assert f'annotation {anns[2]["id"]} ' in out
        assert "polygons have [2] point(s)" in out
        assert "polygons have [1] point(s)" in out


def test_a_training_set_with_nothing_to_train_on_stops(workspace, shapes_data):
    os.remove(workspace / 'data' / 'shapes')
    shutil.copytree(shapes_data, workspace / 'data' / 'shapes')
    path = workspace / 'data' / 'shapes' / 'annotations' / \
        'instances_train.json'
    coco = json.loads(path.read_text())
    for ann in coco['annotations']:  # thinner than a pixel
        ann['bbox'][2] = 0.5
    path.write_text(json.dumps(coco))
    proc = run(
        [
            tool('train.py'),
            osp.join(ROOT, CONFIG), '--work-dir', 'wd', '--cfg-options'
        ] + FAST + iters(2),
        workspace,
        ok=False)
    line = one_line_error(proc)
    assert 'instances_train.json has 8 image(s) but no instance' in line
    assert f'{len(coco["annotations"])} with a box less than 1 pixel' in line


def test_detectron_resize_makes_no_full_size_float_copy():
    import tracemalloc

    from mmpanet.datasets.transforms import DetectronResize
    img = np.zeros((6000, 8000, 3), np.uint8)
    resize = DetectronResize(scale=(1400, 1000))
    tracemalloc.start()
    out = resize(dict(img=img, img_shape=img.shape[:2]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out['img'].shape == (1000, 1333, 3)
    assert out['scale_factor'] == (1 / 6, 1 / 6)
    # what it allocates depends on the output size: less than the uint8
    # image itself (a float32 copy would be 4x that)
    assert peak < img.nbytes
