# Copyright (c) mmpanet contributors. All rights reserved.
"""Convert the official Cityscapes gtFine polygons into the COCO-style json
files the Cityscapes configs read.

    python tools/dataset_converters/cityscapes.py data/cityscapes \
        [--out-dir data/cityscapes/annotations] [--splits train val] \
        [--nproc 2]

See ``mmpanet.dataset_converters.cityscapes`` for what is kept and how.
"""
import argparse
import os.path as osp
import sys

from mmpanet.dataset_converters import convert_cityscapes
from mmpanet.dataset_converters.cityscapes import SPLITS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'root', help='Cityscapes root (holds gtFine/ and leftImg8bit/)')
    parser.add_argument(
        '--out-dir', help='default: ROOT/annotations, where the configs look')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'val'], choices=SPLITS)
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    out_dir = args.out_dir or osp.join(args.root, 'annotations')
    try:
        convert_cityscapes(args.root, out_dir, args.splits, args.nproc)
    except (FileNotFoundError, ImportError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
