# Copyright (c) mmpanet contributors. All rights reserved.
"""Run a trained model on your own images and draw what it finds.

    python tools/infer.py IMAGE_OR_FOLDER CONFIG CHECKPOINT
        [--out-dir outputs] [--score-thr 0.3] [--device cpu] [--tta] [--amp]
        [--trust-checkpoint FILE ...]
    python tools/infer.py IMAGE_OR_FOLDER CONFIG --backend onnxruntime \
        --onnx model.onnx [--out-dir outputs] [--score-thr 0.3]

Writes ``<out-dir>/vis/<image>`` (masks, boxes and class names over the
image) and ``<out-dir>/preds/<image>.json`` (labels, scores, boxes, RLE
masks), through mmdet's ``DetInferencer`` (for ``--backend onnxruntime``
with the graph that ``tools/deployment/export_onnx.py`` wrote in place of
the PyTorch model).
"""
import argparse
import sys
from collections import Counter

from mmpanet.utils.entrypoint import (add_backend_args, add_trust_arg,
                                      exit_unless_found,
                                      loading_errors_as_exit, onnx_file)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Instance segmentation of your own images')
    parser.add_argument('inputs', help='an image file or a folder of them')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (not with --backend onnxruntime)')
    parser.add_argument('--out-dir', default='outputs')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='draw detections scoring at least this')
    parser.add_argument('--device', default='cpu', help='cpu, cuda:0, ...')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: the config\'s tta_model and '
        'tta_pipeline')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: bf16 autocast on CPU, fp16 on CUDA, fp32 '
        'where an op needs it')
    add_backend_args(parser)
    add_trust_arg(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        onnx = onnx_file(args)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    if not onnx and args.checkpoint is None:
        sys.exit('error: CHECKPOINT is required (or --backend onnxruntime '
                 '--onnx FILE)')
    exit_unless_found(
        input=args.inputs, config=args.config, checkpoint=args.checkpoint)
    from mmdet.apis import DetInferencer
    from mmengine.config import Config

    from mmpanet import amp_inference  # (and registers the modules)
    from mmpanet.utils.config import apply_tta
    cfg = Config.fromfile(args.config)
    if args.tta:
        try:
            apply_tta(cfg)
        except ValueError as e:
            sys.exit(f'error: {e}')
    if onnx:
        from mmpanet.deploy import ONNXInferencer
        inferencer = ONNXInferencer(model=cfg, weights=onnx, device='cpu')
    else:
        with loading_errors_as_exit(args):
            inferencer = DetInferencer(
                model=cfg, weights=args.checkpoint, device=args.device)
    with amp_inference(inferencer.model, enabled=args.amp):
        results = inferencer(
            args.inputs,
            out_dir=args.out_dir,
            pred_score_thr=args.score_thr,
            batch_size=args.batch_size,
            no_save_pred=False)
    classes = inferencer.model.dataset_meta['classes']
    found = Counter(classes[label] for pred in results['predictions']
                    for label, score in zip(pred['labels'], pred['scores'])
                    if score >= args.score_thr)
    print(f'{len(results["predictions"])} image(s); detections scoring at '
          f'least {args.score_thr}: ' +
          (', '.join(f'{name} x{n}'
                     for name, n in found.most_common()) or 'none'))
    print(f'results written to {args.out_dir}/vis and {args.out_dir}/preds')


if __name__ == '__main__':
    main()
