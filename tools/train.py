# Copyright (c) mmpanet contributors. All rights reserved.
"""Train a detector from a config with MMEngine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher pytorch]
        [--skip-preflight] [--trust-checkpoint FILE ...]

Checks the set-up first (``mmpanet.utils.preflight``) and stops with every
problem it finds.
"""
import argparse
import os.path as osp

from mmengine.config import Config

from mmpanet.engine import EmptyTrainingSetError
from mmpanet.utils import entrypoint
from mmpanet.utils.preflight import name_bad_annotation_files

AMP_WRAPPERS = ('AmpOptimWrapper', 'CPUAmpOptimWrapper')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or without a value from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision: fp16 with dynamic loss scaling on '
        'CUDA, bf16 on CPU')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by (GPUs x images per GPU) / the config\'s '
        'auto_scale_lr.base_batch_size')
    entrypoint.add_common_args(parser)
    return parser.parse_args(argv)


def build_config(args) -> Config:
    """Merge the command-line options into the config."""
    cfg = entrypoint.load_config(args)
    if args.amp:
        import torch
        opt_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if opt_type in AMP_WRAPPERS:
            print('AMP is already on in the config')
        elif opt_type != 'OptimWrapper':
            raise ValueError('--amp needs optim_wrapper.type to be '
                             f'OptimWrapper, got {opt_type}')
        elif torch.cuda.is_available():  # fp16, dynamic loss scale
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:  # bf16 autocast, no loss scale
            cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr.'
                             'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'checkpoint to resume not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_config(args)
    entrypoint.preflight(cfg, args, 'train')
    with name_bad_annotation_files(cfg), \
            entrypoint.loading_errors_as_exit(args):
        try:
            entrypoint.build_runner(cfg).train()
        except EmptyTrainingSetError as e:
            raise SystemExit(f'error: {e}')


if __name__ == '__main__':
    main()
