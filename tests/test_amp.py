# Copyright (c) mmpanet contributors. All rights reserved.
"""Mixed precision at inference and in training: bf16 autocast on CPU with
fp32 where an op needs it (mmpanet.engine.amp), for mmdet's Mask R-CNN and
for PANet; detections under AMP against fp32 on a trained model."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import Config
from model_utils import TWO_SIZES, build
from tool_utils import ROOT, main_job_config, run_tool

from mmpanet import amp_inference
from mmpanet.engine.amp import amp_training
from mmpanet.testing import make_batch

MASK_RCNN = 'configs/shapes/mask-rcnn_r18-w32_fpn_1100i_shapes.py'
CONFIG = main_job_config()


def predict(model, data, amp):
    model.eval()
    with torch.no_grad(), amp_inference(model, enabled=amp):
        processed = model.data_preprocessor(copy.deepcopy(data), False)
        return model(**processed, mode='predict')


@pytest.mark.parametrize('config', [MASK_RCNN, CONFIG])
def test_whole_detector_runs_under_bf16(config):
    """mmcv's NMS and CPU RoIAlign have fp32 kernels only: the boundaries
    give them fp32; the detections come out in fp32."""
    model = build(Config.fromfile(osp.join(ROOT, config)).model)
    data = make_batch(TWO_SIZES)
    for result, img in zip(predict(model, data, True), data['inputs']):
        pred = result.pred_instances
        assert pred.bboxes.dtype == pred.scores.dtype == torch.float32
        assert pred.masks.shape[1:] == img.shape[1:]
    convs = []
    model.backbone.conv1.register_forward_hook(
        lambda m, a, out: convs.append(out.dtype))
    predict(model, data, True)
    predict(model, data, False)
    assert convs == [torch.bfloat16, torch.float32]  # the layers run in bf16


@pytest.mark.parametrize('config', [MASK_RCNN, CONFIG])
def test_a_training_step_under_bf16(config):
    model = build(Config.fromfile(osp.join(ROOT, config)).model)
    model.train()
    processed = model.data_preprocessor(make_batch(TWO_SIZES), True)
    with amp_training(model):
        losses = model(**processed, mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is None or p.grad.dtype == torch.float32
               for p in model.parameters())


def test_detections_under_bf16_match_fp32(trained_main_job):
    """Every fp32 detection scoring 0.3 or more has a bf16 twin: the same
    label, IoU >= 0.95, a score within 0.02 (bf16 keeps 8 bits of
    mantissa)."""
    from mmdet.apis import inference_detector

    from mmpanet import init_model
    cwd, ckpt = trained_main_job
    model = init_model(osp.join(ROOT, CONFIG), ckpt)
    images = sorted((cwd / 'data' / 'shapes').glob('*/*.png'))
    matched = 0
    for image in images:
        ref = inference_detector(model, str(image)).pred_instances
        with amp_inference(model):
            amp = inference_detector(model, str(image)).pred_instances
        ref, amp = ref[ref.scores >= 0.3], amp[amp.scores >= 0.25]
        if len(ref) == 0:
            continue
        assert len(amp) > 0, image
        iou = bbox_overlaps(ref.bboxes, amp.bboxes)
        iou[ref.labels[:, None] != amp.labels[None]] = 0
        best, twin = iou.max(1)
        assert best.min() >= 0.95, (image, best)
        assert (ref.scores - amp.scores[twin]).abs().max() <= 0.02, image
        matched += len(ref)
    assert matched >= 10  # the comparison saw enough detections


def test_test_and_infer_tools_take_amp(trained_main_job):
    cwd, ckpt = trained_main_job
    config = osp.join(ROOT, CONFIG)
    loaders = [
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'
    ]
    out = run_tool([
        osp.join(ROOT, 'tools', 'test.py'), config, ckpt, '--amp',
        '--work-dir', 'test_amp', '--cfg-options'
    ] + loaders, cwd)
    assert 'AmpTestLoop' in open(cwd / 'test_amp' /
                                 osp.basename(config)).read()
    assert 'coco/segm_mAP' in out
    run_tool([
        osp.join(ROOT, 'tools', 'infer.py'),
        str(cwd / 'data' / 'shapes' / 'val' / '00000.png'), config, ckpt,
        '--amp', '--out-dir', 'infer_amp'
    ], cwd)
    assert (cwd / 'infer_amp' / 'preds' / '00000.json').is_file()
