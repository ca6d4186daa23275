# Copyright (c) mmpanet contributors. All rights reserved.
"""Convert one of the PANet authors' released checkpoints (ShuLiu1993/PANet)
into an mmdet checkpoint for its mmpanet config.

    python tools/model_converters/panet_authors_to_mmdet.py SRC DST
        [--trust-checkpoint SRC]

Which of the three models SRC is (mask, 4conv1fc detection, 2fc detection)
is read from its keys; the config to use is printed. See
``mmpanet.model_converters.panet_authors`` for what is converted.
"""
import argparse
import os
import os.path as osp
import sys

from mmpanet.model_converters import convert_checkpoint
from mmpanet.utils.entrypoint import add_trust_arg, loading_errors_as_exit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='the authors\' checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the mmdet checkpoint')
    add_trust_arg(parser)
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        sys.exit(f'error: checkpoint not found: {args.src}')
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    try:
        with loading_errors_as_exit(args):
            released = convert_checkpoint(args.src, args.dst)
    except (KeyError, ValueError) as e:
        sys.exit(f'error: {e.args[0] if e.args else e}')
    print(f'{args.src}: the authors\' {released.task.lower()} model with '
          f'the {released.box_head} box head')
    print(f'written: {args.dst}')
    print(f'config:  configs/panet/{released.config}.py')


if __name__ == '__main__':
    main()
