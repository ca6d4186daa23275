# Copyright (c) mmpanet contributors. All rights reserved.
"""Measure two or more configs side by side, in one run, interleaved.

    python tools/analysis_tools/benchmark.py CONFIG_A CONFIG_B [...]
        [--img-size 512 512] [--num-images 4] [--repeats 3] [--warmup 1]
        [--num-dets 100] [--train-iters 3] [--threads 2] [--device cpu]
        [--amp | --compare-amp] [--skip-train] [--skip-memory] [--skip-flops]
        [--components] [--profile K] [--out-dir DIR]

Inference latency, training step time, peak training memory, parameters
and FLOPs of each config (see ``mmpanet.analysis.benchmark``); ratios
against the first config. Output: Markdown, and with ``--out-dir`` also
``benchmark.md`` and ``benchmark.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmpanet.analysis.benchmark import markdown, run, settings_from
from mmpanet.analysis.provenance import RunRecord


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Latency, train step, memory, params and FLOPs of '
        'configs, side by side')
    parser.add_argument('configs', nargs='+')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=[512, 512],
        metavar=('H', 'W'))
    parser.add_argument('--num-images', type=int, default=4)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--num-dets', type=int, default=100)
    parser.add_argument('--train-iters', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: bf16 autocast on CPU, fp16 on CUDA, fp32 '
        'where an op needs it (mmpanet.engine.amp)')
    parser.add_argument(
        '--compare-amp',
        action='store_true',
        help='measure every config in fp32 and in mixed precision, side by '
        'side, interleaved')
    parser.add_argument('--skip-train', action='store_true')
    parser.add_argument('--skip-memory', action='store_true')
    parser.add_argument('--skip-flops', action='store_true')
    parser.add_argument(
        '--components',
        action='store_true',
        help='also time the AFP extractor against plain RoIAlign calls')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='K',
        help='also profile the predict step (torch profiler) and list the '
        'top K operators by self time')
    parser.add_argument(
        '--out-dir',
        default=None,
        help='write benchmark.md and benchmark.json here')
    args = parser.parse_args(argv)
    if len(args.configs) < 2:
        parser.error('give two or more configs to compare')
    for path in args.configs:
        if not osp.isfile(path):
            parser.error(f'config file not found: {path}')
    return args


def main(argv=None):
    args = parse_args(argv)
    settings = settings_from(vars(args))
    record = RunRecord(['tools/analysis_tools/benchmark.py'] +
                       list(argv if argv is not None else sys.argv[1:]))
    results = run(args.configs, settings)
    run_info = record.finish()
    text = markdown(results, settings)
    print(text)
    print(f'CPU busy {run_info["cpu_busy_percent"]}%, stolen '
          f'{run_info["cpu_steal_percent"]}% during the run')
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'benchmark.md'), 'w') as f:
            f.write(text)
        with open(osp.join(args.out_dir, 'benchmark.json'), 'w') as f:
            json.dump(
                dict(run=run_info, settings=vars(args), results=results),
                f,
                indent=2)
        print(f'written: {args.out_dir}/benchmark.{{md,json}}')


if __name__ == '__main__':
    main()
