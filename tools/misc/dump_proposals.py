# Copyright (c) mmpanet contributors. All rights reserved.
"""Write a trained RPN's proposals for the images of each split (the paper's
separately trained RPN, see ``mmpanet.utils.proposals``).

    python tools/misc/dump_proposals.py RPN_CONFIG CHECKPOINT
        [--splits train val] [--num-max-proposals N] [--work-dir DIR]
        [--cfg-options k=v ...] [--launcher pytorch] [--skip-preflight]

Each split goes to ``<data_root>/proposals/<RPN config>_<annotation
file>.pkl``, the file the ``*sep-rpn*`` configs read.
"""
import argparse
import os.path as osp

from mmpanet.utils import entrypoint
from mmpanet.utils.proposals import SPLITS, dump_proposals_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write an RPN\'s proposals for the train and val images')
    parser.add_argument('config', help='RPN config (model.type=\'RPN\')')
    parser.add_argument('checkpoint', help='the trained RPN')
    parser.add_argument(
        '--splits', nargs='+', choices=SPLITS, default=['train', 'val'])
    parser.add_argument(
        '--num-max-proposals',
        type=int,
        help='keep the best N per image (default: all the RPN gives, '
        'model.test_cfg.rpn.max_per_img)')
    entrypoint.add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: '
                                f'{args.checkpoint}')
    written = {}
    for split in args.splits:
        try:
            cfg, out_file = dump_proposals_config(
                entrypoint.load_config(args),
                split,
                args.config,
                num_max_proposals=args.num_max_proposals)
        except ValueError as e:
            raise SystemExit(f'error: {args.config}: {e}')
        cfg.load_from = args.checkpoint
        cfg.work_dir = osp.join(cfg.work_dir, f'proposals_{split}')
        entrypoint.preflight(cfg, args, 'test', args.checkpoint)
        with entrypoint.loading_errors_as_exit(args):
            runner = entrypoint.build_runner(cfg)
            runner.test()
        written[split] = out_file
        if runner.rank == 0:
            print(f'{split}: proposals written to {out_file}')
    return written


if __name__ == '__main__':
    main()
