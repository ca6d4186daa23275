# Copyright (c) mmpanet contributors. All rights reserved.
"""Convert Mapillary Vistas (v1.2) instance maps into the COCO-style json
files the MVD configs read.

    python tools/dataset_converters/mapillary_vistas.py data/mapillary \
        [--out-dir data/mapillary/annotations] [--config FILE]
        [--splits training validation] [--nproc 2]

See ``mmpanet.dataset_converters.mapillary_vistas`` for the format.
"""
import argparse
import os.path as osp
import sys

from mmpanet.dataset_converters import convert_mapillary_vistas
from mmpanet.dataset_converters.mapillary_vistas import SPLITS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'root', help='MVD root (config.json, training/, validation/)')
    parser.add_argument(
        '--out-dir', help='default: ROOT/annotations, where the configs look')
    parser.add_argument(
        '--config', help='the label config (default: ROOT/config.json)')
    parser.add_argument(
        '--splits', nargs='+', default=list(SPLITS), choices=SPLITS)
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    out_dir = args.out_dir or osp.join(args.root, 'annotations')
    try:
        convert_mapillary_vistas(args.root, out_dir, args.splits, args.config,
                                 args.nproc)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
