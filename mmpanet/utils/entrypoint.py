# Copyright (c) mmpanet contributors. All rights reserved.
"""What the command-line tools share: common options, config loading, the
preflight call, turning loading errors into one line, runner building. It
only glues: what it calls lives in the package."""
import argparse
import contextlib
import os
import os.path as osp
import sys
from typing import Optional

from mmdet.registry import RUNNERS
from mmengine.config import Config, DictAction
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


def add_cfg_options_arg(parser: argparse.ArgumentParser,
                        example: str = 'train_cfg.max_iters=100') -> None:
    """--cfg-options KEY=VALUE ... (mmengine's ``DictAction``)."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override config keys, e.g. {example}')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """--work-dir, --cfg-options, --launcher, --local-rank,
    --skip-preflight and --trust-checkpoint."""
    parser.add_argument(
        '--work-dir',
        help='directory for logs, checkpoints and metrics (default: '
        './work_dirs/<config name>)')
    add_cfg_options_arg(parser)
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


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    """--backend pytorch|onnxruntime and --onnx FILE."""
    parser.add_argument(
        '--backend',
        choices=('pytorch', 'onnxruntime'),
        default='pytorch',
        help='onnxruntime: run the ONNX graph given by --onnx (written by '
        'tools/deployment/export_onnx.py from this config) instead of a '
        'checkpoint')
    parser.add_argument(
        '--onnx', help='the .onnx file for --backend '
        'onnxruntime')


def onnx_file(args: argparse.Namespace) -> str:
    """The graph ``--backend onnxruntime`` runs (``None`` for pytorch);
    a ValueError for a missing file or options that do not go with it."""
    if args.backend == 'pytorch':
        if args.onnx:
            raise ValueError('--onnx goes with --backend onnxruntime')
        return None
    if not args.onnx:
        raise ValueError('--backend onnxruntime needs --onnx FILE')
    if not osp.isfile(args.onnx):
        raise FileNotFoundError(f'ONNX file not found: {args.onnx}')
    clashes = [
        option for option, value in (('CHECKPOINT', args.checkpoint),
                                     ('--tta', args.tta), ('--amp', args.amp))
        if value
    ]
    if clashes:
        raise ValueError(f'--backend onnxruntime runs the graph as '
                         f'exported: no {", ".join(clashes)}')
    import mmpanet.deploy  # noqa: F401 (registers ONNXRuntimeDetector)
    return args.onnx


def exit_unless_found(**paths: Optional[str]) -> None:
    """``SystemExit('error: <what> file not found: <path>')`` for the first
    of ``paths`` (``what=path``; ``None`` for one not given) missing."""
    for what, path in paths.items():
        if path is not None and not osp.exists(path):
            raise SystemExit(f'error: {what} file not found: {path}')


def read_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """The config at ``path`` with ``--cfg-options`` merged in."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def config_for_checkpoint(args: argparse.Namespace) -> Config:
    """``args.config`` with ``args.cfg_options``, once it and
    ``args.checkpoint`` (when given) are found (else ``SystemExit``)."""
    exit_unless_found(config=args.config, checkpoint=args.checkpoint)
    return read_config(args.config, args.cfg_options)


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the common options."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = read_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
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


def build_runner(cfg: Config) -> Runner:
    """The runner the config's ``runner_type`` names (mmpanet's configs:
    ``PANetRunner``, see ``configs/_base_/panet_runtime.py``), else
    mmengine's ``Runner``; looked up in mmdet's scope."""
    return RUNNERS.build(cfg)
