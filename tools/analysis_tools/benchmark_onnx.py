# Copyright (c) mmpanet contributors. All rights reserved.
"""ONNX Runtime against PyTorch on CPU, one model, side by side in one run
(``mmpanet.analysis.onnx_benchmark``; needs ``pip install mmpanet[deploy]``).

    python tools/analysis_tools/benchmark_onnx.py CONFIG [CHECKPOINT]
        [--images DIR] [--img-size H W] [--num-images 4] [--repeats 3]
        [--threads 2] [--profile N] [--out FILE.json]

For example, the main job's model on the built-in val images, and the R-50
COCO PANet with random weights at 800x1216::

    python tools/analysis_tools/benchmark_onnx.py \\
        configs/shapes/panet_r18-w32_pafpn-relu_mbn-adamw-550i_shapes.py \\
        work_dirs/main_job/iter_550.pth --images data/shapes/val
    python tools/analysis_tools/benchmark_onnx.py \\
        configs/panet/panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py \\
        --img-size 800 1216
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmpanet.analysis.benchmark import settings_from
from mmpanet.analysis.onnx_benchmark import Settings, markdown, run
from mmpanet.analysis.provenance import RunRecord
from mmpanet.utils.entrypoint import exit_unless_found


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='ONNX Runtime against PyTorch latency on CPU')
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint', nargs='?', help='default: random weights')
    parser.add_argument('--images', help='a folder of images (default: noise)')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input size for noise inputs and the export (default: the '
        'test scale, padded)')
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--num-dets', type=int, default=100)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help="also list each backend's top N operators by self time")
    parser.add_argument('--out', help='write the results to this .json')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    exit_unless_found(config=args.config, checkpoint=args.checkpoint)
    settings = settings_from(vars(args), Settings)
    record = RunRecord(['tools/analysis_tools/benchmark_onnx.py'] +
                       list(argv if argv is not None else sys.argv[1:]))
    result = run(args.config, args.checkpoint, settings)
    run_info = record.finish()
    print(markdown([result], settings))
    print(f'CPU busy {run_info["cpu_busy_percent"]}%, stolen '
          f'{run_info["cpu_steal_percent"]}% during the run')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(
                dict(run=run_info, settings=vars(settings), results=[result]),
                f,
                indent=2)
        print(f'written: {args.out}')


if __name__ == '__main__':
    main()
