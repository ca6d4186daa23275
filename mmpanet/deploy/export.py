# Copyright (c) mmpanet contributors. All rights reserved.
"""Write a config's detector as one ONNX graph (``torch.onnx.export`` with
``dynamo=True``, opset 18): input ``input`` ``(1, 3, H, W)`` with any
``H`` and ``W``, outputs ``boxes``, ``scores``, ``labels`` (and ``masks``),
standard ONNX ops only; the class names and the preprocessing in its
metadata."""
import json
import logging
import math
import warnings
from typing import Optional, Sequence, Union

import torch
from mmdet.registry import DATASETS
from mmengine.config import Config

from mmpanet.apis import init_model
from .detector import ExportableDetector, ExportError
from .ops import ONNX_TRANSLATIONS
from .runtime import METADATA_KEY, OUTPUTS, require

OPSET = 18
# transforms of a test pipeline that do not change the image
PASSIVE_TRANSFORMS = ('LoadImageFromFile', 'LoadAnnotations', 'PackDetInputs')
DATA_PREPROCESSORS = ('DetDataPreprocessor', 'MemoryFormatDetDataPreprocessor')


def _type(cfg: dict) -> str:
    return cfg['type'].split('.')[-1]


def preprocess_spec(cfg: Config) -> dict:
    """The test pipeline's resize and the data preprocessor's
    normalisation and padding, as the runtime applies them; an
    :class:`ExportError` names a step it cannot."""
    resize = None
    for transform in cfg.test_dataloader.dataset.pipeline:
        if _type(transform) == 'Resize' and resize is None and \
                'scale' in transform:
            resize = transform
        elif _type(transform) not in PASSIVE_TRANSFORMS:
            raise ExportError(
                f'test_dataloader.dataset.pipeline: {transform["type"]} is '
                'not reproduced by the ONNX runtime (it takes Resize with a '
                'scale)')
    if resize is None:
        raise ExportError('test_dataloader.dataset.pipeline: no Resize with '
                          'a scale')
    pre = cfg.model.data_preprocessor
    if _type(pre) not in DATA_PREPROCESSORS or pre.get('batch_augments'):
        raise ExportError(f'model.data_preprocessor ({pre["type"]}): the '
                          f'runtime reproduces {", ".join(DATA_PREPROCESSORS)}'
                          ' without batch_augments')
    return dict(
        scale=list(resize['scale']),
        keep_ratio=bool(resize.get('keep_ratio', False)),
        mean=list(pre.get('mean') or (0., 0., 0.)),
        std=list(pre.get('std') or (1., 1., 1.)),
        bgr_to_rgb=bool(pre.get('bgr_to_rgb', False)),
        pad_size_divisor=int(pre.get('pad_size_divisor', 1)),
        pad_value=float(pre.get('pad_value', 0)))


def dataset_metainfo(cfg: Config, model: torch.nn.Module) -> dict:
    """The class names and palette the predictions are drawn with, chosen
    as mmdet's ``DetInferencer`` chooses them: the checkpoint's classes and
    the test dataset's palette, each from the other where missing."""
    dataset = cfg.test_dataloader.dataset
    metainfo = DATASETS.get(dataset.type)._load_metainfo(
        dataset.get('metainfo'))
    saved = getattr(model, 'dataset_meta', None) or {}
    meta = dict(
        classes=saved.get('classes') or metainfo.get('classes'),
        palette=metainfo.get('palette') or saved.get('palette'))
    if not meta['classes']:
        raise ExportError('no class names in the checkpoint or in '
                          'test_dataloader.dataset')
    return {
        key: [list(v) if isinstance(v, (list, tuple)) else v for v in value]
        for key, value in meta.items() if value
    }


def _constant(value) -> Optional[list]:
    """The values of an ONNX IR ``value`` that is an initializer or a
    ``Constant`` node's output, as a flat list; otherwise None."""
    from onnxscript.ir.convenience import get_const_tensor
    tensor = None if value is None else get_const_tensor(value)
    return None if tensor is None else tensor.numpy().reshape(-1).tolist()


def bypass_stack_unbind(model) -> int:
    """Let each ``unbind`` of a ``stack`` read the stacked tensors, in the
    ONNX IR ``model`` (``onnxscript.ir``), in place; returns how many.

    The RoI pooling stacks the levels' grids ``(n, C, S, S)`` along dim 1
    and the per-level layers take them apart again: in ONNX,
    ``Squeeze(Slice(Concat(Unsqueeze(x_0), Unsqueeze(x_1), ...), i, i + 1),
    a)``, all along axis ``a``, which is ``x_i``: two copies of every pooled
    grid that ONNX Runtime would make. The stack stays where something else
    reads it.
    """
    from onnxscript.optimizer import remove_unused_nodes
    bypassed = 0
    for squeeze in list(model.graph):
        if squeeze.op_type != 'Squeeze' or len(squeeze.inputs) != 2 or \
                squeeze.outputs[0].is_graph_output():
            continue
        cut = squeeze.inputs[0].producer()
        if cut is None or cut.op_type != 'Slice' or len(cut.inputs) < 4:
            continue
        stack = cut.inputs[0].producer()
        if stack is None or stack.op_type != 'Concat':
            continue
        axis = stack.attributes['axis'].value
        starts, ends, axes = (_constant(v) for v in cut.inputs[1:4])
        steps = _constant(cut.inputs[4]) if len(cut.inputs) > 4 else [1]
        if None in (starts, ends, axes, steps) or axes != [axis] or \
                steps != [1] or _constant(squeeze.inputs[1]) != [axis] or \
                len(starts) != 1 or ends != [starts[0] + 1] or \
                not 0 <= starts[0] < len(stack.inputs):
            continue
        grow = stack.inputs[starts[0]].producer()
        if grow is None or grow.op_type != 'Unsqueeze' or \
                _constant(grow.inputs[1]) != [axis]:
            continue
        squeeze.outputs[0].replace_all_uses_with(grow.inputs[0])
        bypassed += 1
    remove_unused_nodes(model)
    return bypassed


def export_onnx(config: Union[str, Config],
                checkpoint: Optional[str],
                out: str,
                input_shape: Optional[Sequence[int]] = None) -> str:
    """Export the detector of ``config`` with the weights of
    ``checkpoint`` (``None``: its initialisation) to ``out``, check it with
    ``onnx.checker`` and return ``out``.

    ``input_shape`` ``(H, W)`` is the example the graph is traced with
    (default: the test scale padded); other sizes run without re-export.
    """
    require('onnx', 'onnxscript')
    import onnx

    cfg = Config.fromfile(config) if isinstance(config, str) else config
    spec = preprocess_spec(cfg)
    model = init_model(cfg, checkpoint)
    module = ExportableDetector(model).eval()
    dataset_meta = dataset_metainfo(cfg, model)
    if input_shape is None:
        divisor = spec['pad_size_divisor']
        input_shape = [
            math.ceil(s / divisor) * divisor for s in sorted(spec['scale'])
        ]
    example = torch.randn(
        1, 3, *input_shape, generator=torch.Generator().manual_seed(0))
    names = list(OUTPUTS if model.with_mask else OUTPUTS[:3])
    height, width = torch.export.Dim('height'), torch.export.Dim('width')
    logging.getLogger('torch.onnx._internal.exporter._registration').setLevel(
        logging.ERROR)  # "torchvision not installed"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)  # torch's own
        program = torch.onnx.export(
            module, (example, ),
            dynamo=True,
            input_names=['input'],
            output_names=names,
            dynamic_shapes=({
                2: height,
                3: width
            }, ),
            custom_translation_table=ONNX_TRANSLATIONS,
            opset_version=OPSET,
            verbose=False)
    bypass_stack_unbind(program.model)
    proto = program.model_proto
    for output in proto.graph.output:  # (torch names it after a symbol)
        output.type.tensor_type.shape.dim[0].dim_param = 'num_detections'
    info = dict(
        dataset_meta=dataset_meta,
        preprocess=spec,
        mask_thr_binary=cfg.model.test_cfg.rcnn.get('mask_thr_binary', 0.5))
    onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(info)})
    onnx.save(proto, out)
    onnx.checker.check_model(out, full_check=True)
    return out
