# Copyright (c) mmpanet contributors. All rights reserved.
"""Reproduce the paper's Figure 3: with max fusion, which level each fused
feature comes from, grouped by the level plain FPN would assign the RoI to.

    python tools/analysis_tools/feature_level_share.py CONFIG CHECKPOINT
        [--out-dir DIR] [--num-images N] [--head bbox|mask]
        [--cfg-options ...] [--trust-checkpoint FILE ...]

Runs the model on the test split (see ``mmpanet.analysis.feature_level_share``
for what is counted) and writes ``feature_level_share.json`` / ``.md`` and
``.png``.
"""
import argparse
import os.path as osp
import sys

from mmpanet.analysis import feature_level_share
from mmpanet.utils.entrypoint import (add_cfg_options_arg, add_trust_arg,
                                      config_for_checkpoint,
                                      loading_errors_as_exit)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-level share of max-fused features (Figure 3)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        '--out-dir', default=None, help='default: the checkpoint\'s folder')
    parser.add_argument(
        '--num-images',
        type=int,
        default=None,
        help='images of the test split to use (all)')
    parser.add_argument('--head', choices=('bbox', 'mask'), default='bbox')
    add_cfg_options_arg(parser, 'test_dataloader.batch_size=1')
    add_trust_arg(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = config_for_checkpoint(args)
    try:
        with loading_errors_as_exit(args):
            counter = feature_level_share.measure(cfg, args.checkpoint,
                                                  args.head, args.num_images)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.checkpoint))
    title = (f'{args.head} head: source level of max-fused features '
             f'({osp.basename(args.config)})')
    print()
    print(feature_level_share.write_outputs(counter, out_dir, title))
    print(f'written: {out_dir}/feature_level_share.{{json,md,png}}')


if __name__ == '__main__':
    main()
