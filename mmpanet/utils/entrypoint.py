# Copyright (c) mmpanet contributors. All rights reserved.
"""What tools/train.py and tools/test.py share: common options, config
loading and runner building."""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys

from mmdet.registry import RUNNERS
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner import Runner


def add_trust_arg(parser: argparse.ArgumentParser) -> None:
    """--trust-checkpoint FILE ...: the per-file opt-in to a full unpickle
    (see :func:`mmpanet.engine.checkpoint.trusted_checkpoint`)."""
    parser.add_argument(
        '--trust-checkpoint',
        nargs='+',
        default=[],
        metavar='FILE',
        help='load these checkpoint files (or URLs) even if they hold '
        'objects that unpickling would have to call, and downloads without '
        'a pinned SHA-256; only for files you trust')


@contextlib.contextmanager
def loading_errors_as_exit(args: argparse.Namespace):
    """Run the body with ``args.trust_checkpoint`` trusted; a refused file
    or a hash mismatch ends the tool with its one-line message."""
    from mmpanet.engine.checkpoint import (DownloadHashError,
                                           UntrustedCheckpointError,
                                           trusted_checkpoint)
    try:
        with trusted_checkpoint(*getattr(args, 'trust_checkpoint', [])):
            yield
    except (UntrustedCheckpointError, DownloadHashError) as e:
        raise SystemExit(f'error: {e}')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """--work-dir, --cfg-options, --launcher, --local-rank,
    --skip-preflight and --trust-checkpoint."""
    parser.add_argument(
        '--work-dir',
        help='directory for logs, checkpoints and metrics (default: '
        './work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--skip-preflight',
        action='store_true',
        help='do not check data, weights, batch and channels first')
    add_trust_arg(parser)


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the common options."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def preflight(cfg: Config,
              args: argparse.Namespace,
              mode: str,
              checkpoint: str = None) -> None:
    """Run :func:`mmpanet.utils.preflight.run_preflight` unless
    ``--skip-preflight``; on problems print them all and exit with status
    1."""
    from .preflight import PreflightError, run_preflight, world_size_from_env
    if getattr(args, 'skip_preflight', False):
        return
    world_size = 1 if cfg.get('launcher', 'none') == 'none' else \
        world_size_from_env()
    try:
        run_preflight(cfg, mode, world_size, checkpoint=checkpoint)
    except PreflightError as e:
        print(e, file=sys.stderr)
        raise SystemExit(1)


def apply_tta(cfg: Config) -> Config:
    """Test with test-time augmentation, mmdet's way: ``cfg.model`` wrapped
    in ``cfg.tta_model`` (``module=cfg.model``) and the test images read
    through ``cfg.tta_pipeline``. Clear errors where the config has no TTA
    or its detector reads fixed proposals (the TTA views have none)."""
    missing = [k for k in ('tta_model', 'tta_pipeline') if not cfg.get(k)]
    if missing:
        raise ValueError(
            f'--tta needs {" and ".join(missing)} in the config (see '
            'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py)')
    if 'rpn_head' in cfg.model and cfg.model.rpn_head is None:
        raise ValueError('--tta: this detector tests on fixed proposals '
                         '(model.rpn_head=None); augmented views have none')
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    image_dataset(cfg.test_dataloader.dataset).pipeline = cfg.tta_pipeline
    return cfg


def image_dataset(dataset: dict) -> dict:
    """The dataset config inside wrappers (``RepeatDataset``, ...): the one
    that reads the images."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def init_cpu_process_group(cfg: Config) -> None:
    """Start the process group for ``--launcher pytorch`` without GPUs.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device``, which a CPU
    build of torch does not have; once the group exists, the runner uses
    it as it is.
    """
    import torch
    import torch.distributed as dist
    if cfg.get('launcher') != 'pytorch' or torch.cuda.is_available() or \
            dist.is_initialized():
        return
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    if backend != 'gloo':
        raise ValueError(f"env_cfg.dist_cfg.backend is '{backend}', but "
                         "there is no GPU: use 'gloo' on CPU")
    dist.init_process_group(backend='gloo')


def close_process_group() -> None:
    """Destroy the process group of a distributed run before exit (gloo
    aborts at interpreter exit otherwise)."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def build_runner(cfg: Config) -> Runner:
    """The runner the config's ``runner_type`` names (mmpanet's configs:
    ``PANetRunner``, see ``configs/_base_/panet_runtime.py``), else
    mmengine's ``Runner``; looked up in mmdet's scope."""
    init_cpu_process_group(cfg)
    return RUNNERS.build(cfg)


def annotation_files(cfg: Config) -> list:
    """The annotation files the config's dataloaders and evaluators read."""
    files = []

    def visit(node):
        if isinstance(node, dict):
            ann = node.get('ann_file')
            if isinstance(ann, str) and ann:
                root = node.get('data_root') or ''
                path = ann if osp.isabs(ann) or osp.exists(ann) else \
                    osp.join(root, ann)
                if path not in files:
                    files.append(path)
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator'):
        visit(cfg.get(key))
    return files


@contextlib.contextmanager
def name_bad_annotation_files(cfg: Config):
    """Turn a JSON error raised while reading annotations (pycocotools does
    not say which file) into one that names the malformed file."""
    try:
        yield
    except json.JSONDecodeError as e:
        for path in annotation_files(cfg):
            if not osp.isfile(path):
                continue
            try:
                with open(path) as f:
                    json.load(f)
            except json.JSONDecodeError as bad:
                raise ValueError(
                    f'malformed annotation file {path}: {bad}') from e
        raise
