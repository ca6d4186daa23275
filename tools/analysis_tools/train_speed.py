# Copyright (c) mmpanet contributors. All rights reserved.
"""Training speed of two or more configs, side by side, interleaved.

    python tools/analysis_tools/train_speed.py CONFIG_A CONFIG_B [...]
        [--iters 30] [--warmup 5] [--rounds 3] [--threads 2]
        [--profile N] [--cfg-options k=v ...] [--out FILE]

Trains each config in turn for ``--iters`` iterations on its own data, for
``--rounds`` rounds, and prints the median time per iteration, iterations
per second and the speed against the first config (see
``mmpanet.analysis.train_speed``). ``--profile N`` also profiles N
iterations of the first config: operators and the forward pass of the
model's public modules, by self CPU time.
"""
import argparse
import os.path as osp

from mmpanet.analysis.train_speed import markdown, run
from mmpanet.utils.entrypoint import add_cfg_options_arg


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Training speed of configs, side by side, interleaved')
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--profile', type=int, default=0, metavar='N')
    add_cfg_options_arg(parser, 'data_root=... (in every config)')
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args(argv)
    for path in args.configs:
        if not osp.isfile(path):
            parser.error(f'config file not found: {path}')
    if args.iters <= args.warmup:
        parser.error(f'--iters ({args.iters}) must exceed --warmup '
                     f'({args.warmup})')
    return args


def main(argv=None):
    args = parse_args(argv)
    summary = run(
        args.configs,
        iters=args.iters,
        warmup=args.warmup,
        rounds=args.rounds,
        cfg_options=args.cfg_options,
        profile_iters=args.profile,
        threads=args.threads)
    text = markdown(summary)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
