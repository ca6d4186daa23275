# Copyright (c) mmpanet contributors. All rights reserved.
"""Peak memory and time per image of test-time augmentation against a
single pass, for 1, 2 and 8 views and each merge, on one large image.

    python tools/analysis_tools/tta_cost.py CONFIG [--img-size 1024 2048]
        [--views 1 2 8] [--merges detectron mask_voting] [--repeats 3]
        [--threads 2] [--out FILE.json]

See ``mmpanet.analysis.tta_cost`` for what runs.
"""
import argparse
import json
import os.path as osp
import sys

from mmpanet.analysis.provenance import RunRecord
from mmpanet.analysis.tta_cost import VIEWS, Setting, markdown, measure


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--img-size', type=int, nargs=2, default=[1024, 2048])
    parser.add_argument(
        '--views', type=int, nargs='+', default=[1, 2, 8], choices=VIEWS)
    parser.add_argument(
        '--merges', nargs='+', default=['detectron', 'mask_voting'])
    parser.add_argument('--max-per-img', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out', help='also write the results (JSON)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file not found: {args.config}')
    record = RunRecord(['tools/analysis_tools/tta_cost.py'] + list(argv))
    settings = [Setting(0)] + [
        Setting(n, merge) for merge in args.merges for n in args.views
    ]
    results = measure(args.config, settings, args.img_size, args.max_per_img,
                      args.repeats, args.warmup, args.threads)
    text = markdown(results, args.img_size)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    run=record.finish(), settings=vars(args), results=results),
                f,
                indent=2)
        print(f'written: {args.out}')


if __name__ == '__main__':
    main()
