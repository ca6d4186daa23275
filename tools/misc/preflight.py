# Copyright (c) mmpanet contributors. All rights reserved.
"""Check that a config is ready to run, in seconds, without building it.

    python tools/misc/preflight.py CONFIG [--mode train|test]
        [--checkpoint CKPT] [--world-size N] [--auto-scale-lr]
        [--cfg-options k=v ...]

Data (annotation files, image folders, a few images), pretrained weights
(local, cached or reachable), processes x images per process against the
config's batch, and the backbone's channels against the neck's
``in_channels`` (see ``mmpanet.utils.preflight``). Prints every problem and
exits with status 1, or prints ``preflight ok`` and exits with 0.
``tools/train.py`` and ``tools/test.py`` run the same checks first.
"""
import argparse
import os.path as osp
import sys

from mmpanet.utils.entrypoint import add_cfg_options_arg, read_config
from mmpanet.utils.preflight import PreflightError, run_preflight


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check a config is ready to run')
    parser.add_argument('config')
    parser.add_argument('--mode', choices=['train', 'test'], default='train')
    parser.add_argument('--checkpoint', help='the checkpoint to test')
    parser.add_argument(
        '--world-size',
        type=int,
        default=1,
        help='processes (GPUs) the run will use')
    parser.add_argument('--auto-scale-lr', action='store_true')
    add_cfg_options_arg(parser)
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file not found: {args.config}')
    if args.world_size < 1:
        parser.error('--world-size must be at least 1')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import mmpanet  # noqa: F401  (registers the modules)
    cfg = read_config(args.config, args.cfg_options)
    try:
        run_preflight(cfg, args.mode, args.world_size, args.auto_scale_lr,
                      args.checkpoint)
    except PreflightError as e:
        print(e, file=sys.stderr)
        return 1
    print(f'preflight ok: {args.config} ({args.mode})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
