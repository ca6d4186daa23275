# Copyright (c) mmpanet contributors. All rights reserved.
"""Shared helpers for the model tests: tiny generated samples, and one loss
plus one predict step on CPU."""
import copy

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.model import revert_sync_batchnorm
from mmengine.structures import InstanceData


def build(cfg, init_weights=True):
    """Build a model on CPU (SyncBN -> BN); ``init_weights=False`` keeps
    the constructors' initialization and loads no pretrained weights."""
    model = revert_sync_batchnorm(MODELS.build(cfg))
    if init_weights:
        model.init_weights()
    return model


def make_sample(h, w, boxes, labels, seed=0):
    """One image (pad to 32 happens in the data preprocessor) and its GT."""
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), generator=g).float()
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(h, w),
            ori_shape=(h, w),
            scale_factor=(1.0, 1.0),
            pad_shape=(h, w),
            batch_input_shape=(h, w)))
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    masks = torch.zeros(len(boxes), h, w, dtype=torch.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes.long().tolist()):
        masks[i, y1:y2, x1:x2] = 1
    sample.gt_instances = InstanceData(
        bboxes=boxes,
        labels=torch.tensor(labels, dtype=torch.long),
        masks=BitmapMasks(masks.numpy(), h, w))
    return img, sample


def batch(specs):
    imgs, samples = zip(
        *[make_sample(*s, seed=i) for i, s in enumerate(specs)])
    return dict(inputs=list(imgs), data_samples=list(samples))


TWO_SIZES = [(64, 96, [[4, 4, 40, 30], [30, 20, 90, 60]], [0, 2]),
             (80, 64, [[10, 10, 50, 70]], [1])]


def run_loss_and_predict(model, data, train=True):
    """One loss + backward step (unless ``train=False``) and one predict
    step; returns the losses."""
    losses = None
    if train:
        model.train()
        processed = model.data_preprocessor(copy.deepcopy(data), True)
        losses = model(**processed, mode='loss')
        total, _ = model.parse_losses(losses)
        assert torch.isfinite(total), losses
        total.backward()
    model.eval()
    with torch.no_grad():
        processed = model.data_preprocessor(copy.deepcopy(data), False)
        results = model(**processed, mode='predict')
    assert len(results) == len(data['inputs'])
    for res, img in zip(results, data['inputs']):
        pred = res.pred_instances
        assert pred.bboxes.shape[1] == 4
        if 'masks' in pred:
            assert pred.masks.shape[1:] == img.shape[1:]
    return losses
