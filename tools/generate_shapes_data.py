# Copyright (c) mmpanet contributors. All rights reserved.
"""Generate the built-in synthetic COCO-format dataset.

    python tools/generate_shapes_data.py [--out data/shapes] [--seed 0]
"""
import argparse
import time

from mmpanet.datasets import generate_shapes_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/shapes', help='output folder')
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument(
        '--size', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--max-objects', type=int, default=6)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    start = time.time()
    files = generate_shapes_dataset(args.out, args.num_train, args.num_val,
                                    tuple(args.size), args.max_objects,
                                    args.seed)
    print(f'wrote {args.num_train} train + {args.num_val} val images to '
          f'{args.out} in {time.time() - start:.1f}s: ' +
          ', '.join(files.values()))


if __name__ == '__main__':
    main()
