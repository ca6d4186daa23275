# Copyright (c) mmpanet contributors. All rights reserved.
"""Evaluate a checkpoint with MMEngine's Runner.

    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out FILE.pkl]
        [--tta] [--amp] [--show-dir DIR] [--cfg-options k=v ...]
        [--launcher pytorch] [--skip-preflight] [--trust-checkpoint FILE ...]
    python tools/test.py CONFIG --backend onnxruntime --onnx model.onnx ...

Checks the set-up first (``mmpanet.utils.preflight``) and stops with every
problem it finds.
"""
import argparse
import json
import os.path as osp

from mmengine.config import Config

from mmpanet.utils import entrypoint
from mmpanet.utils.config import apply_tta
from mmpanet.utils.preflight import name_bad_annotation_files


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (not for an ensemble: its members name '
        'theirs)')
    parser.add_argument(
        '--out', help='dump the raw predictions to this .pkl file')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: the config\'s tta_model and '
        'tta_pipeline')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: bf16 autocast on CPU, fp16 on CUDA, fp32 '
        'where an op needs it (mmpanet.engine.amp)')
    parser.add_argument(
        '--show-dir',
        help='save pictures of the predictions under <work_dir>/<timestamp>/'
        'SHOW_DIR')
    entrypoint.add_backend_args(parser)
    entrypoint.add_common_args(parser)
    return parser.parse_args(argv)


def build_config(args) -> Config:
    cfg = entrypoint.load_config(args)
    onnx = entrypoint.onnx_file(args)
    if onnx:
        cfg.model = dict(type='ONNXRuntimeDetector', onnx_file=onnx)
    elif cfg.model.type == 'DetectorEnsemble':
        if args.checkpoint or not args.tta:
            raise ValueError('an ensemble config (model.type='
                             "'DetectorEnsemble') is tested with --tta and "
                             'no CHECKPOINT: its members name theirs')
    elif args.checkpoint is None:
        raise ValueError('CHECKPOINT is required')
    elif not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: '
                                f'{args.checkpoint}')
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, type='AmpTestLoop')
    if args.show_dir:
        vis_hook = cfg.default_hooks.get('visualization')
        if vis_hook is None:
            raise ValueError('--show-dir needs default_hooks.visualization '
                             '(DetVisualizationHook) in the config')
        vis_hook.draw = True
        vis_hook.test_out_dir = args.show_dir
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must be a .pkl or .pickle file')
        cfg.test_evaluator = [cfg.test_evaluator] if isinstance(
            cfg.test_evaluator, dict) else list(cfg.test_evaluator)
        cfg.test_evaluator.append(
            dict(type='DumpDetResults', out_file_path=args.out))
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = build_config(args)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    entrypoint.preflight(cfg, args, 'test', args.checkpoint)
    if args.tta:
        try:
            apply_tta(cfg)
        except ValueError as e:
            raise SystemExit(f'error: {e}')
    with entrypoint.loading_errors_as_exit(args):
        runner = entrypoint.build_runner(cfg)
        with name_bad_annotation_files(cfg):
            metrics = runner.test()
    if runner.rank == 0:
        out = osp.join(cfg.work_dir, 'metrics.json')
        with open(out, 'w') as f:
            json.dump(metrics, f, indent=2)
        print(f'metrics written to {out}')
    return metrics


if __name__ == '__main__':
    main()
