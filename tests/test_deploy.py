# Copyright (c) mmpanet contributors. All rights reserved.
"""The detector as one ONNX graph run by ONNX Runtime (mmpanet.deploy):
the same detections as PyTorch's ``predict(..., rescale=False)`` on images
of several sizes, the same AP, pictures and JSON through the tools, empty
outputs, the COCO rows with random weights at 800x1216, and configs the
exporter refuses before tracing."""
import json
import os.path as osp
import re
import warnings

import cv2
import numpy as np
import onnx
import pytest
import torch
from mmdet.evaluation import get_classes
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import Config
from tool_utils import ROOT, load_tool, main_job_config, run_tool

from mmpanet.apis import init_model
from mmpanet.deploy import (ExportError, ONNXDetector, export_onnx,
                            paste_masks, predict_preprocessed)

CONFIG = osp.join(ROOT, main_job_config())
EXPORT = osp.join(ROOT, 'tools', 'deployment', 'export_onnx.py')
# (h, w) of the test images cut from the 96x96 val images: inputs of
# 256x256, 256x192 (padded from 187) and 128x256 (from 110)
SIZES = [(96, 96), (96, 70), (60, 140)]
# sizes the config resizes to multiples of 32 (256x256, 192x256, 128x256):
# no padding, so the graph's clip to its input is PyTorch's clip to the image
UNPADDED_SIZES = [(96, 96), (72, 96), (96, 192)]


@pytest.fixture(scope='module')
def exported(trained_main_job, tmp_path_factory):
    """The trained main-job model exported by the tool: ``(cwd,
    checkpoint, onnx file)``."""
    cwd, ckpt = trained_main_job
    out = str(tmp_path_factory.mktemp('onnx') / 'main.onnx')
    printed = run_tool([EXPORT, CONFIG, ckpt, '--out', out], cwd)
    assert 'onnx.checker passed' in printed
    return cwd, ckpt, out


def write_images(cwd, folder, sizes):
    """Val images cut and stretched to ``sizes`` ``(h, w)``, written to
    ``folder``; their paths."""
    val = sorted((cwd / 'data' / 'shapes' / 'val').glob('*.png'))
    paths = []
    for i, (h, w) in enumerate(sizes):
        image = cv2.imread(str(val[i % len(val)]))
        image = cv2.resize(image[:, :min(w, 96)], (w, h))
        paths.append(str(folder / f'{h}x{w}.png'))
        cv2.imwrite(paths[-1], image)
    return paths


@pytest.fixture(scope='module')
def images(trained_main_job, tmp_path_factory):
    return write_images(trained_main_job[0], tmp_path_factory.mktemp('sizes'),
                        SIZES)


def assert_same_detections(ref, out: dict, shape, masks=True):
    """``out`` (the graph's outputs) holds each of ``ref``'s detections:
    the same label, the box within 1e-3 of its size, the score within
    1e-4, the pasted mask at IoU >= 0.98."""
    assert len(out['boxes']) == len(ref), (len(out['boxes']), len(ref))
    if not len(ref):
        return
    boxes = torch.from_numpy(out['boxes'])
    iou = bbox_overlaps(ref.bboxes, boxes)
    iou[ref.labels[:, None] != torch.from_numpy(out['labels'])[None]] = -1
    twin = iou.argmax(1)
    assert twin.unique().numel() == len(ref)
    assert (torch.from_numpy(out['labels'])[twin] == ref.labels).all()
    size = (ref.bboxes[:, 2:] - ref.bboxes[:, :2]).max(1).values.clamp(1)
    err = (boxes[twin] - ref.bboxes).abs().max(1).values
    assert (err <= 1e-3 * size).all(), err.max()
    scores = torch.from_numpy(out['scores'])[twin]
    assert (scores - ref.scores).abs().max() <= 1e-4
    if masks:
        pasted = torch.from_numpy(
            paste_masks(out['masks'], out['boxes'], shape))[twin]
        inter = (pasted & ref.masks).flatten(1).sum(1)
        union = (pasted | ref.masks).flatten(1).sum(1)
        iou = torch.where(union > 0, inter / union.clamp(1), 1.)  # both empty
        assert iou.min() >= 0.98, iou.min()


def test_graph_is_standard_onnx_with_dynamic_size(exported):
    _, _, path = exported
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert {node.domain for node in model.graph.node} <= {'', 'ai.onnx'}
    assert not model.functions  # no custom op left for a runtime to know
    ops = {node.op_type for node in model.graph.node}
    assert {'RoiAlign', 'NonMaxSuppression'} <= ops

    def dims(value):
        return [
            d.dim_param or d.dim_value
            for d in value.type.tensor_type.shape.dim
        ]

    (input, ) = model.graph.input
    assert (input.name, dims(input)) == ('input', [1, 3, 'height', 'width'])
    outputs = {o.name: dims(o) for o in model.graph.output}
    assert outputs == {
        'boxes': ['num_detections', 4],
        'scores': ['num_detections'],
        'labels': ['num_detections'],
        'masks': ['num_detections', 28, 28]
    }
    labels = next(o for o in model.graph.output if o.name == 'labels')
    assert labels.type.tensor_type.elem_type == onnx.TensorProto.INT64
    # the pooled grids go to the per-level layers without a stack
    producer = {out: node for node in model.graph.node for out in node.output}
    pooled = {
        node.output[0]
        for node in model.graph.node if node.op_type == 'Unsqueeze'
        and producer[node.input[0]].op_type == 'RoiAlign'
    }
    assert not any(node.op_type == 'Concat' and pooled & set(node.input)
                   for node in model.graph.node)


class _StackUnbind(torch.nn.Module):

    def forward(self, a, b, c):
        stacked = torch.stack([a, b * 2, c], dim=1)
        x, y, z = stacked.unbind(1)
        return x + y * z, stacked.sum(1) if self.keep else x * 3

    keep = False


@pytest.mark.parametrize('keep', [False, True])
def test_stack_unbind_is_bypassed(keep, tmp_path):
    """``bypass_stack_unbind`` wires each unbound tensor to its input of the
    stack: no Concat, Slice or Squeeze left, the same outputs; a stack that
    something else reads stays."""
    import onnxruntime as ort

    from mmpanet.deploy.export import bypass_stack_unbind
    module = _StackUnbind()
    module.keep = keep
    inputs = tuple(
        torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(i))
        for i in range(3))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)  # torch's own
        program = torch.onnx.export(
            module, inputs, dynamo=True, opset_version=18, verbose=False)
    ops = [node.op_type for node in program.model.graph]
    assert {'Concat', 'Slice', 'Squeeze'} <= set(ops)
    assert bypass_stack_unbind(program.model) == 3
    ops = [node.op_type for node in program.model.graph]
    assert 'Slice' not in ops and 'Squeeze' not in ops
    assert ('Concat' in ops) == keep
    session = ort.InferenceSession(
        program.model_proto.SerializeToString(),
        providers=['CPUExecutionProvider'])
    outputs = session.run(None, {
        i.name: t.numpy()
        for i, t in zip(session.get_inputs(), inputs)
    })
    for out, ref in zip(outputs, module(*inputs)):
        np.testing.assert_allclose(out, ref.numpy(), rtol=1e-6)


def test_preprocessing_is_the_configs(exported, images):
    """The runtime's numpy resize, normalisation and padding give the
    input the config's test pipeline and data preprocessor give."""
    from mmdet.apis.det_inferencer import DetInferencer
    _, ckpt, path = exported
    detector = ONNXDetector(path)
    inferencer = DetInferencer(CONFIG, ckpt, device='cpu', show_progress=False)
    for image in images:
        _, batch = next(inferencer.preprocess([image], batch_size=1))
        ref = inferencer.model.data_preprocessor(batch, False)
        input, meta = detector.preprocess(image)
        np.testing.assert_array_equal(input, ref['inputs'].numpy())
        info = ref['data_samples'][0].metainfo
        assert meta['img_shape'] == info['img_shape']
        assert meta['ori_shape'] == info['ori_shape']
        np.testing.assert_allclose(meta['scale_factor'], info['scale_factor'])


def test_same_detections_as_pytorch_on_several_sizes(exported, images):
    _, ckpt, path = exported
    model = init_model(CONFIG, ckpt)
    detector = ONNXDetector(path, num_threads=2)
    shapes, found = set(), 0
    for image in images:
        input, _ = detector.preprocess(image)
        shapes.add(input.shape)
        ref = predict_preprocessed(model, input)
        assert_same_detections(ref, detector.run(input), input.shape[2:])
        found += len(ref)
    assert len(shapes) == len(images)  # one graph, several input sizes
    assert found >= 10  # the comparison saw detections


def test_test_tool_gives_the_same_ap(exported):
    cwd, ckpt, path = exported
    test = osp.join(ROOT, 'tools', 'test.py')
    loaders = [
        '--cfg-options', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    metrics = {}
    for backend, args in (('pytorch', [ckpt]),
                          ('onnxruntime',
                           ['--backend', 'onnxruntime', '--onnx', path])):
        run_tool([test, CONFIG] + args + ['--work-dir', backend] + loaders,
                 cwd)
        with open(cwd / backend / 'metrics.json') as f:
            metrics[backend] = json.load(f)
    assert metrics['pytorch']['coco/segm_mAP'] > 0.1  # a model that detects
    for key in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert abs(metrics['pytorch'][key] -
                   metrics['onnxruntime'][key]) <= 0.002, key


def test_infer_tool_writes_the_same_pictures_and_json(exported, tmp_path,
                                                      monkeypatch):
    """On images the config resizes without padding (where PyTorch clips
    boxes to the image, the graph to its padded input: the same here)."""
    cwd, ckpt, path = exported
    (tmp_path / 'images').mkdir()
    images = write_images(cwd, tmp_path / 'images', UNPADDED_SIZES)
    infer = load_tool('tools/infer.py')
    monkeypatch.chdir(tmp_path)
    folder = osp.dirname(images[0])
    for backend, args in (('pytorch', [ckpt]),
                          ('onnxruntime',
                           ['--backend', 'onnxruntime', '--onnx', path])):
        np.random.seed(0)  # mmdet jitters the mask colours at random
        infer.main([folder, CONFIG] + args + ['--out-dir', backend])
    for image in images:
        name = osp.splitext(osp.basename(image))[0]
        ref, out = ({
            key: np.asarray(value)
            for key, value in json.load(
                open(tmp_path / backend / 'preds' / f'{name}.json')).items()
            if key != 'masks'
        } for backend in ('pytorch', 'onnxruntime'))
        np.testing.assert_array_equal(ref['labels'], out['labels'])
        np.testing.assert_allclose(ref['scores'], out['scores'], atol=1e-4)
        np.testing.assert_allclose(ref['bboxes'], out['bboxes'], atol=1e-2)
        ref, out = (
            cv2.imread(str(tmp_path / backend / 'vis' / f'{name}.png'))
            for backend in ('pytorch', 'onnxruntime'))
        assert ref.shape == out.shape
        assert (ref != out).any(-1).mean() <= 0.002


def test_no_proposals_gives_empty_outputs(trained_main_job, tmp_path):
    """No box survives the RPN's size filter: the box and mask heads run on
    zero RoIs, the outputs are empty and the runtime pastes no mask."""
    cwd, ckpt = trained_main_job
    path = str(tmp_path / 'empty.onnx')
    cfg = Config.fromfile(CONFIG)
    cfg.model.test_cfg.rpn.min_bbox_size = 10**4
    export_onnx(cfg, ckpt, path)
    detector = ONNXDetector(path)
    image = sorted((cwd / 'data' / 'shapes' / 'val').glob('*.png'))[0]
    outputs = detector.run(detector.preprocess(str(image))[0])
    assert {
        k: v.shape
        for k, v in outputs.items()
    } == {
        'boxes': (0, 4),
        'scores': (0, ),
        'labels': (0, ),
        'masks': (0, 28, 28)
    }
    results = detector(str(image))
    assert results['masks'].shape == (0, 96, 96)


def test_paste_masks_matches_mmdet():
    """The numpy paste equals mmdet's FCNMaskHead paste on CPU (boxes
    inside, across and beyond the image, one of zero width)."""
    from mmdet.models.roi_heads.mask_heads import FCNMaskHead
    from mmengine.config import ConfigDict
    gen = torch.Generator().manual_seed(0)
    probs = torch.rand(5, 1, 28, 28, generator=gen)
    boxes = torch.tensor([[3.2, 4.7, 40.1, 30.9], [-5., 10., 20., 90.],
                          [50., 50., 50., 60.], [0., 0., 70., 64.],
                          [33.3, 2.2, 35.1, 5.9]])
    head = FCNMaskHead(num_convs=0, num_classes=1, in_channels=4)
    ref = head._predict_by_feat_single(
        probs,
        boxes.clone(),
        torch.zeros(5, dtype=torch.long),
        dict(ori_shape=(64, 70), scale_factor=(1., 1.)),
        ConfigDict(mask_thr_binary=0.5),
        rescale=True,
        activate_map=True)
    out = paste_masks(probs[:, 0].numpy(), boxes.numpy(), (64, 70))
    np.testing.assert_array_equal(out, ref.numpy())


class _ClasswiseNMS(torch.nn.Module):

    def __init__(self, max_per_label):
        super().__init__()
        self.max_per_label = max_per_label

    def forward(self, boxes, scores, labels):
        from mmpanet.deploy.ops import classwise_nms
        return classwise_nms(boxes, scores, labels, 6, 0.5, self.max_per_label)


@pytest.mark.parametrize('max_per_label', [3, 1 << 30])
def test_classwise_nms_capped_per_label(max_per_label, tmp_path):
    """The class-wise NMS, eager and as ONNX ``NonMaxSuppression``, keeps
    mmdet's boxes (``batched_nms``, one NMS per class), best first; capped
    at ``k`` per label, it keeps each label's best ``k`` of them."""
    import onnxruntime as ort
    from mmcv.ops import batched_nms

    from mmpanet.deploy.ops import ONNX_TRANSLATIONS
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(300, 2, generator=gen) * 80
    boxes = torch.cat([xy, xy + 4 + torch.rand(300, 2, generator=gen) * 30], 1)
    scores = torch.rand(300, generator=gen)
    labels = torch.randint(0, 6, (300, ), generator=gen)
    # mmdet's multiclass_nms through batched_nms, one NMS per class
    _, ref = batched_nms(boxes, scores, labels,
                         dict(iou_threshold=0.5, split_thr=0))
    expected, count = [], [0] * 6
    for i in ref.tolist():
        count[labels[i]] += 1
        if count[labels[i]] <= max_per_label:
            expected.append(i)
    assert max(count) > 3  # the cap of 3 removes boxes
    module = _ClasswiseNMS(max_per_label)
    eager = module(boxes, scores, labels)
    assert eager.tolist() == expected
    path = str(tmp_path / 'nms.onnx')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)  # torch's own
        torch.onnx.export(
            module, (boxes, scores, labels),
            path,
            dynamo=True,
            custom_translation_table=ONNX_TRANSLATIONS,
            opset_version=18,
            verbose=False)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    feed = {
        i.name: t.numpy()
        for i, t in zip(session.get_inputs(), (boxes, scores, labels))
    }
    assert session.run(None, feed)[0].tolist() == eager.tolist()


@pytest.mark.parametrize('config', [
    'panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py',
    'panet-bpa-afp-ff-max_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py',
    'panet-bpa-afp-ff-prod_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py',
])
def test_coco_rows_export_at_800x1216(config, tmp_path):
    """The COCO configs (4conv1fc and 2fc AFP box heads; FF by sum, max and
    prod) with random weights: the graph at 800x1216 gives PyTorch's
    detections (PyTorch runs the per-level first convolutions as one
    grouped convolution, the graph as separate ones). The classifier's
    weights are scaled up so that random features clear the score
    threshold."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'panet', config))
    torch.manual_seed(0)  # the same random model whatever ran before
    model = init_model(cfg)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        fc_cls = model.roi_head.bbox_head.fc_cls
        fc_cls.weight.copy_(torch.randn(fc_cls.weight.shape, generator=gen))
    ckpt = str(tmp_path / 'random.pth')
    meta = dict(dataset_meta=dict(classes=get_classes('coco')))
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, ckpt)
    path = export_onnx(cfg, ckpt, str(tmp_path / 'model.onnx'), (800, 1216))
    # the per-level first layers stay separate convolutions in the graph,
    # whatever the head's grouped_conv
    groups = [
        attr.i for node in onnx.load(path).graph.node if node.op_type == 'Conv'
        for attr in node.attribute if attr.name == 'group'
    ]
    assert set(groups) <= {1}
    input = torch.randn(1, 3, 800, 1216, generator=gen).numpy()
    ref = predict_preprocessed(model, input)
    assert len(ref) >= 5
    out = ONNXDetector(path, num_threads=2).run(input)
    assert_same_detections(ref, out, (800, 1216))


@pytest.mark.parametrize('config, named', [
    ('configs/panet/panet_r50-dconv-c3-c5_pafpn-relu_rbl-mst-mbn-160k_coco.py',
     'backbone.layer2.0.conv2 (DeformConv2dPack): deformable'),
    ('configs/panet/panet_r50_pafpn-relu_rbl-mst-mbn-sep-rpn-160k_coco.py',
     'test_dataloader.dataset.pipeline: LoadProposals'),
])
def test_exporter_names_what_it_cannot_express(config, named, tmp_path):
    with pytest.raises(ExportError, match=re.escape(named)):
        export_onnx(osp.join(ROOT, config), None, str(tmp_path / 'x.onnx'))
    assert not (tmp_path / 'x.onnx').exists()


def test_benchmark_prints_both_backends(exported, tmp_path):
    cwd, ckpt, _ = exported
    out = tmp_path / 'onnx.json'
    printed = run_tool([
        osp.join(ROOT, 'tools', 'analysis_tools',
                 'benchmark_onnx.py'), CONFIG, ckpt, '--images',
        str(cwd / 'data' / 'shapes' / 'val'), '--num-images', '2', '--repeats',
        '1', '--warmup', '0', '--profile', '3', '--out',
        str(out)
    ], cwd)
    assert '| PyTorch ms | ONNX Runtime ms | ONNX Runtime / PyTorch |' in \
        printed
    assert printed.count('top operators by self time') == 2
    with open(out) as f:
        saved = json.load(f)
    (result, ) = saved['results']
    for backend in ('pytorch', 'onnxruntime', 'graph'):
        assert result[backend]['n'] == 2 and result[backend]['median'] > 0
    assert result['ratio'] == pytest.approx(result['onnxruntime']['median'] /
                                            result['pytorch']['median'])
    assert result['input_shapes'] == [[256, 256]]
    for backend, conv in (('pytorch', 'aten::mkldnn_convolution'),
                          ('onnxruntime', 'Conv')):
        top = result['profile'][backend]
        assert len(top) == 3 and conv in [e['op'] for e in top]
        assert [e['self_ms'] for e in top] == sorted(
            (e['self_ms'] for e in top), reverse=True)
        assert 0 < sum(e['share'] for e in top) <= 1
        assert all(e['calls'] > 0 for e in top)
    assert {'command', 'commit', 'machine',
            'cpu_busy_percent'} <= set(saved['run'])


@pytest.mark.parametrize('args, message', [
    (['--backend', 'onnxruntime'], '--backend onnxruntime needs --onnx'),
    (['--onnx', 'model.onnx'], '--onnx goes with --backend onnxruntime'),
    (['--backend', 'onnxruntime', '--onnx', 'missing.onnx'
      ], 'ONNX file not found: missing.onnx'),
])
def test_tools_name_a_wrong_backend_option(args, message, tmp_path,
                                           monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for tool in ('tools/test.py', 'tools/infer.py'):
        first = [CONFIG
                 ] if tool == 'tools/test.py' else [str(tmp_path), CONFIG]
        with pytest.raises(SystemExit, match=re.escape(message)):
            load_tool(tool).main(first + args)


def test_onnx_backend_takes_no_checkpoint(exported, tmp_path, monkeypatch):
    _, ckpt, path = exported
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
            SystemExit,
            match='runs the graph as exported: no '
            'CHECKPOINT, --amp'):
        load_tool('tools/test.py').main([
            CONFIG, ckpt, '--amp', '--backend', 'onnxruntime', '--onnx', path
        ])


def test_the_extra_is_needed_only_to_export_and_run(monkeypatch, tmp_path):
    """``import mmpanet`` loads none of the deploy extra's packages; without
    them, exporting and running name the extra."""
    import subprocess
    import sys
    code = ('import sys, mmpanet; print(sorted(m for m in sys.modules if '
            "m.split('.')[0] in ('onnx', 'onnxruntime', 'onnxscript')))")
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert out.strip() == '[]'
    import importlib.util
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec', lambda name, *args: None
        if name in ('onnxruntime', 'onnx') else find_spec(name, *args))
    with pytest.raises(
            ImportError,
            match=re.escape('onnxruntime not installed: pip '
                            'install mmpanet[deploy]')):
        ONNXDetector(str(tmp_path / 'model.onnx'))
    with pytest.raises(ImportError, match=re.escape('onnx not installed')):
        export_onnx(CONFIG, None, str(tmp_path / 'model.onnx'))
