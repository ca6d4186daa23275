# Copyright (c) mmpanet contributors. All rights reserved.
"""Shared helpers for the model tests: building on CPU, and one loss plus
one predict step (tiny samples: ``mmpanet.testing``)."""
import copy

import torch

from mmpanet.apis import init_model


def build(cfg, init_weights=True):
    """Build a model on CPU (:func:`mmpanet.apis.init_model`);
    ``init_weights=False`` keeps the constructors' initialization and loads
    no pretrained weights."""
    model = init_model(cfg)
    if init_weights:
        model.init_weights()
    return model


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
