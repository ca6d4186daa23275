# Copyright (c) mmpanet contributors. All rights reserved.
"""Export a detector to one ONNX graph (needs ``pip install mmpanet[deploy]``).

    python tools/deployment/export_onnx.py CONFIG [CHECKPOINT] --out model.onnx
        [--input-shape H W] [--cfg-options k=v ...] [--trust-checkpoint FILE]

Without CHECKPOINT the model keeps its initialisation (to check that a
config exports). Run the graph with ``tools/infer.py ... --backend
onnxruntime --onnx model.onnx`` or evaluate it with ``tools/test.py CONFIG
--backend onnxruntime --onnx model.onnx``.
"""
import argparse
import os.path as osp
import time

from mmpanet.utils.entrypoint import (add_cfg_options_arg, add_trust_arg,
                                      config_for_checkpoint,
                                      loading_errors_as_exit)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a detector to ONNX')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (default: the initialisation)')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument(
        '--input-shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='shape to trace with (default: the test scale, padded); the '
        'graph takes any shape')
    add_cfg_options_arg(parser, 'model.test_cfg.rcnn.score_thr=0.3')
    add_trust_arg(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = config_for_checkpoint(args)
    from mmpanet.deploy import ExportError, export_onnx
    start = time.perf_counter()
    try:
        with loading_errors_as_exit(args):
            export_onnx(cfg, args.checkpoint, args.out, args.input_shape)
    except ExportError as e:
        raise SystemExit(f'error: {e}')
    print(f'written: {args.out} ({osp.getsize(args.out) / 2**20:.1f} MiB, '
          f'{time.perf_counter() - start:.0f} s; onnx.checker passed)')


if __name__ == '__main__':
    main()
