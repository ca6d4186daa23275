# Copyright (c) mmpanet contributors. All rights reserved.
"""Long-run reliability: exact resume after a crash, atomic checkpoints,
2-process distributed training, bf16 autocast, and hostile inputs."""
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import pytest
import torch
from model_utils import TWO_SIZES, build, run_loss_and_predict
from test_tools import CONFIG, FAST, iters, run, train_losses

from mmpanet.engine.checkpoint import load
from mmpanet.testing import make_batch, make_sample

CRASH_HOOK = '''
import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class CrashAtIterHook(Hook):
    """Kill the run (main process and dataloader workers, no clean-up at
    all) before iteration ``at``, as a crashed node would."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at:
            os.killpg(os.getpgrp(), signal.SIGKILL)
'''
PANET = 'configs/panet/panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py'
# one dataloader worker: augmentation draws from the worker's own seeded
# random stream (see PANetRunner)
WORKER = [
    'train_dataloader.num_workers=1',
    'train_dataloader.persistent_workers=True'
]


def run_failing(cmd, cwd, env=None):
    env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)  # none is needed
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        start_new_session=True)  # its own process group, killable whole
    assert proc.returncode != 0, proc.stdout[-2000:]
    return proc.stdout + proc.stderr


def test_crash_then_exact_resume(workspace, root):
    py, train = sys.executable, osp.join(root, 'tools', 'train.py')
    config = osp.join(root, CONFIG)
    opts = FAST + WORKER + iters(4, ckpt_every=2)
    whole = str(workspace / 'whole')
    run([py, train, config, '--work-dir', whole, '--cfg-options'] + opts,
        workspace)
    expected = train_losses(whole)
    assert sorted(expected) == [1, 2, 3, 4]

    # the same run, killed before iteration 3 (after the iter_2 checkpoint)
    with open(workspace / 'crash_hook.py', 'w') as f:
        f.write(CRASH_HOOK)
    with open(workspace / 'crashing.py', 'w') as f:
        f.write(f"_base_ = '{config}'\n"
                "custom_imports = dict(imports=['mmpanet', 'crash_hook'])\n"
                "custom_hooks = [dict(type='CrashAtIterHook', at=3)]\n")
    crashed = str(workspace / 'crashed')
    run_failing(
        [
            py, train,
            str(workspace / 'crashing.py'), '--work-dir', crashed,
            '--cfg-options'
        ] + opts,
        workspace,
        env=dict(PYTHONPATH=str(workspace)))
    with open(osp.join(crashed, 'last_checkpoint')) as f:
        last = f.read().strip()
    assert last.endswith('iter_2.pth')
    ckpt = load(last, map_location='cpu')
    assert ckpt['meta']['iter'] == 2
    assert 'random_states' in ckpt['message_hub']['runtime_info']
    assert not [f for f in os.listdir(crashed) if f.endswith('.tmp')]

    # resume (latest checkpoint of the work dir) with the plain config
    out = run([
        py, train, config, '--work-dir', crashed, '--resume', '--cfg-options'
    ] + opts, workspace)
    assert 'resumed epoch: 0, iter: 2' in out
    resumed = {
        i: loss
        for i, loss in train_losses(crashed).items() if i in (3, 4)
    }
    assert sorted(resumed) == [3, 4]
    for i in (3, 4):
        # equal up to float summation order in the logger's averaging
        assert resumed[i] == pytest.approx(expected[i], rel=1e-5, abs=1e-6)
    with open(osp.join(whole, 'last_checkpoint')) as f:
        a = load(f.read().strip())
    b = load(osp.join(crashed, 'iter_4.pth'), map_location='cpu')
    # optimizer, scheduler and counters continued as in the whole run
    assert b['meta']['iter'] == 4
    assert b['param_schedulers'] == a['param_schedulers']
    for key, value in a['state_dict'].items():
        assert torch.allclose(
            value.float(), b['state_dict'][key].float(), rtol=1e-4,
            atol=1e-6), key


def test_checkpoint_save_is_atomic(tmp_path, monkeypatch):
    """A save that dies half-way leaves no file under the checkpoint's name
    and the previous checkpoint untouched."""
    import mmengine.runner.runner as runner_module
    from mmengine.logging import MessageHub

    from mmpanet.engine import PANetRunner

    class Half(Exception):
        pass

    def half_write(checkpoint, filepath, **kwargs):
        with open(filepath, 'wb') as f:
            f.write(b'PK\x03\x04 truncated')
        raise Half()

    good = tmp_path / 'iter_2.pth'
    good.write_bytes(b'previous checkpoint')
    runner = PANetRunner.__new__(PANetRunner)
    runner.message_hub = MessageHub('atomic-save-test')
    monkeypatch.setattr(
        runner_module.Runner, 'save_checkpoint',
        lambda self, out_dir, filename, *a, **k: half_write(
            None, osp.join(out_dir, filename)))
    with pytest.raises(Half):
        runner.save_checkpoint(str(tmp_path), 'iter_4.pth')
    assert not (tmp_path / 'iter_4.pth').exists()
    assert good.read_bytes() == b'previous checkpoint'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_distributed_training_with_syncbn(workspace, root):
    wd = str(workspace / 'dist')
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        MASTER_PORT=str(free_port()),
        OMP_NUM_THREADS='1',
        PYTHONUNBUFFERED='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)  # none is needed
    syncbn = [
        'model.backbone.norm_cfg.type=SyncBN',
        'model.neck.bottom_up_norm_cfg.type=SyncBN'
    ]
    proc = subprocess.run(
        [
            'bash',
            osp.join(root, 'tools', 'dist_train.sh'),
            osp.join(root, CONFIG), '2', '--work-dir', wd, '--cfg-options'
        ] + FAST + iters(2) + syncbn +
        ['auto_scale_lr.base_batch_size=4'],  # 2 processes x 2 images
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert 'Distributed training: True' in out
    assert 'synchronized over the process group by CPUSyncBatchNorm' in out
    ckpts = [f for f in os.listdir(wd) if f.endswith('.pth')]
    assert ckpts == ['iter_2.pth']
    ckpt = load(osp.join(wd, 'iter_2.pth'), map_location='cpu')
    states = ckpt['message_hub']['runtime_info']['random_states']
    assert len(states) == 2  # one per process
    assert sorted(train_losses(wd)) == [1, 2]


def test_amp_trains_on_cpu_in_bf16(workspace, root):
    wd = workspace / 'amp'
    out = run([
        sys.executable,
        osp.join(root, 'tools', 'train.py'),
        osp.join(root, CONFIG), '--amp', '--work-dir',
        str(wd), '--cfg-options'
    ] + FAST + iters(2), workspace)
    assert (wd / 'iter_2.pth').is_file(), out[-3000:]
    assert "type='CPUAmpOptimWrapper'" in out  # the config the runner logs
    losses = train_losses(str(wd))
    assert sorted(losses) == [1, 2]
    assert torch.isfinite(torch.tensor(list(losses.values()))).all()


def test_cpu_amp_trains_full_panet_in_bf16(root):
    """Two steps of full PANet (R-50, Table 3 row 9) under
    ``CPUAmpOptimWrapper``: the backbone, the AFP extractor and every head
    compute in bf16, the RPN's outputs reach NMS in fp32, and parameters
    stay fp32 and are updated."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(osp.join(root, PANET))
    cfg.model.backbone.init_cfg = None  # no download
    cfg.model.train_cfg.rpn_proposal.max_per_img = 64
    cfg.model.train_cfg.rcnn.sampler.num = 32
    model = build(cfg.model)
    wrapper = build_optim_wrapper(
        model,
        dict(
            type='CPUAmpOptimWrapper',
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
    before = model.roi_head.mask_head.conv_logits.weight.detach().clone()
    model.train()
    for step in range(2):
        dtypes = {}
        with wrapper.optim_context(model):
            # registered after the wrapper's own hook: sees what leaves
            handles = [
                model.get_submodule(name).register_forward_hook(
                    record_dtype(dtypes, name))
                for name in ('backbone', 'neck', 'rpn_head',
                             'roi_head.bbox_roi_extractor',
                             'roi_head.bbox_head', 'roi_head.mask_head')
            ]
            data = model.data_preprocessor(make_batch(TWO_SIZES), True)
            losses = model(**data, mode='loss')
        for handle in handles:
            handle.remove()
        loss, _ = model.parse_losses(losses)
        assert torch.isfinite(loss), losses
        wrapper.update_params(loss)
        assert dtypes.pop('rpn_head') == torch.float32
        assert set(dtypes.values()) == {torch.bfloat16}, dtypes
    assert not model.rpn_head._forward_hooks  # removed with the context
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not torch.equal(before, model.roi_head.mask_head.conv_logits.weight)


def record_dtype(dtypes, name):
    """A forward hook storing the dtype of the module's first output."""

    def hook(module, args, out):
        while isinstance(out, (list, tuple)):
            out = out[0]
        dtypes[name] = out.dtype

    return hook


def test_cpu_amp_rejects_bad_options_and_non_cpu_models():
    from mmpanet.engine import CPUAmpOptimWrapper
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1)
    with pytest.raises(TypeError, match='fp32_outputs'):
        CPUAmpOptimWrapper(optimizer=optimizer, fp32_outputs='rpn_head')
    wrapper = CPUAmpOptimWrapper(optimizer=optimizer)
    with pytest.raises(ValueError, match='use mmengine.s AmpOptimWrapper'):
        with wrapper.optim_context(torch.nn.Linear(2, 2, device='meta')):
            pass


@pytest.fixture(scope='module')
def panet(request):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(str(request.config.rootpath), CONFIG))
    return build(cfg.model)


@pytest.mark.parametrize(
    'spec',
    [
        (20, 24, [[2, 2, 18, 16]], [0]),  # smaller than the coarsest stride
        (32, 640, [[10, 4, 300, 28], [400, 2, 630, 30]], [1, 2]),  # 1:20
        (640, 32, [[2, 10, 30, 600]], [3]),  # 20:1
    ],
    ids=['tiny', 'wide', 'tall'])
def test_odd_image_sizes(panet, spec):
    # trained in a batch with a normal image (BN cannot train on a single
    # 1x1 map); predicted alone
    run_loss_and_predict(panet,
                         make_batch([spec, (64, 64, [[4, 4, 40, 30]], [0])]))
    run_loss_and_predict(panet, make_batch([spec]), train=False)


def test_empty_ground_truth_mask(panet):
    img, sample = make_sample(64, 96, [[4, 4, 40, 30], [30, 20, 90, 60]],
                              [0, 2])
    sample.gt_instances.masks.masks[1][:] = 0  # a box whose mask is empty
    losses = run_loss_and_predict(panet,
                                  dict(inputs=[img], data_samples=[sample]))
    assert torch.isfinite(losses['loss_mask'])


@pytest.fixture
def broken_workspace(tmp_path, shapes_data):
    """A private copy of the tiny dataset that a test may damage."""
    shutil.copytree(shapes_data, tmp_path / 'data' / 'shapes')
    return tmp_path


def test_missing_image_names_the_file(broken_workspace, root):
    os.remove(broken_workspace / 'data' / 'shapes' / 'val' / '00001.png')
    out = run_failing([
        sys.executable,
        osp.join(root, 'tools', 'test.py'),
        osp.join(root, CONFIG), 'no_checkpoint_needed.pth', '--cfg-options'
    ] + FAST, broken_workspace)
    assert 'checkpoint file not found' in out  # checked before any work
    ckpt = str(broken_workspace / 'model.pth')
    from mmengine.config import Config
    model = build(Config.fromfile(osp.join(root, CONFIG)).model)
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = run_failing([
        sys.executable,
        osp.join(root, 'tools', 'test.py'),
        osp.join(root, CONFIG), ckpt, '--cfg-options'
    ] + FAST, broken_workspace)
    assert 'val/00001.png' in out


def test_malformed_annotation_file_names_the_file(broken_workspace, root):
    ann = broken_workspace / 'data' / 'shapes' / 'annotations' / \
        'instances_train.json'
    ann.write_text(ann.read_text()[:500])  # truncated
    out = run_failing([
        sys.executable,
        osp.join(root, 'tools', 'train.py'),
        osp.join(root, CONFIG), '--work-dir',
        str(broken_workspace / 'wd'), '--cfg-options'
    ] + FAST + iters(1), broken_workspace)
    assert 'malformed annotation file' in out
    assert 'annotations/instances_train.json' in out


def test_level_mismatch_in_a_config_names_both_keys(request):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(str(request.config.rootpath), CONFIG))
    cfg.model.roi_head.bbox_roi_extractor.featmap_strides = [4, 8, 16]
    model = build(cfg.model)
    with pytest.raises(ValueError) as e:
        run_loss_and_predict(model,
                             make_batch([(64, 96, [[4, 4, 40, 30]], [1])]))
    assert 'bbox_head.num_levels' in str(e.value)
    assert 'featmap_strides' in str(e.value)
