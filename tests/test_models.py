# Copyright (c) mmpanet contributors. All rights reserved.
"""Whole Mask R-CNN models with the PANet modules, on CPU, tiny inputs."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from model_utils import TWO_SIZES, build, run_loss_and_predict

from mmpanet.testing import make_batch

SHAPES = 'configs/shapes/'
PANET = SHAPES + 'panet_r18-w32_pafpn-relu_1100i_shapes.py'
MASK_RCNN = SHAPES + 'mask-rcnn_r18-w32_fpn_1100i_shapes.py'


def model_cfg(root, path):
    return copy.deepcopy(Config.fromfile(osp.join(root, path)).model)


@pytest.fixture(scope='module')
def panet(request):
    root = request.config.rootpath
    return build(model_cfg(str(root), PANET))


def test_full_panet_loss_and_predict(panet):
    losses = run_loss_and_predict(panet, make_batch(TWO_SIZES))
    assert {'loss_mask', 'loss_cls', 'loss_bbox',
            'loss_rpn_cls'} <= set(losses)
    # every parameter of the PANet modules took part in the backward pass
    missing = [
        n for n, p in panet.named_parameters()
        if p.requires_grad and p.grad is None and (
            'neck' in n or 'roi_head' in n)
    ]
    assert not missing, missing


def test_image_without_ground_truth(panet):
    data = make_batch([(64, 64, [], []), TWO_SIZES[0]])
    run_loss_and_predict(panet, data)
    only_empty = make_batch([(64, 64, [], [])])
    panet.train()
    losses = panet(**panet.data_preprocessor(only_empty, True), mode='loss')
    total, _ = panet.parse_losses(losses)
    assert torch.isfinite(total)


def test_zero_proposals_at_test_time(panet):
    data = make_batch([TWO_SIZES[0]])
    panet.eval()
    old = copy.deepcopy(panet.test_cfg)
    panet.roi_head.test_cfg.score_thr = 1.1  # nothing survives
    try:
        with torch.no_grad():
            results = panet(
                **panet.data_preprocessor(data, False), mode='predict')
        assert len(results[0].pred_instances) == 0
        # and no proposals at all from the RPN
        feats = panet.extract_feat(
            panet.data_preprocessor(data, False)['inputs'])
        empty = InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0))
        res = panet.roi_head.predict(
            feats, [empty], data['data_samples'], rescale=False)
        assert len(res[0]) == 0
    finally:
        panet.roi_head.test_cfg = old.rcnn


def test_zero_rois_at_train_time(panet):
    """No proposals and no GT: the RoI head gets no RoIs at all."""
    data = make_batch([(64, 64, [], [])])
    panet.train()
    processed = panet.data_preprocessor(data, True)
    feats = panet.extract_feat(processed['inputs'])
    empty = InstanceData(
        bboxes=torch.zeros(0, 4),
        scores=torch.zeros(0),
        priors=torch.zeros(0, 4))
    losses = panet.roi_head.loss(feats, [empty], processed['data_samples'])
    total = sum(v.sum() for v in losses.values() if torch.is_tensor(v))
    assert torch.isfinite(total)


def test_shared_roi_extractor_path(request):
    """StandardRoIHead's share_roi_extractor path indexes the extractor's
    output by positive RoIs: the all-level output keeps RoIs on dim 0."""
    cfg = model_cfg(str(request.config.rootpath), PANET)
    cfg.roi_head.mask_roi_extractor = None
    cfg.roi_head.mask_head.roi_feat_size = 7
    cfg.train_cfg.rcnn.mask_size = 14
    model = build(cfg)
    assert model.roi_head.share_roi_extractor
    run_loss_and_predict(model, make_batch(TWO_SIZES))


@pytest.mark.parametrize('swap',
                         ['panet_neck_into_mask_rcnn', 'pafpn_into_panet'])
def test_neck_swaps(request, swap):
    root = str(request.config.rootpath)
    if swap == 'panet_neck_into_mask_rcnn':
        cfg = model_cfg(root, MASK_RCNN)
        cfg.neck.type = 'PathAggregationFPN'
    else:
        cfg = model_cfg(root, PANET)
        cfg.neck.type = 'PAFPN'
    model = build(cfg)
    assert type(model.neck).__name__ == cfg.neck.type
    run_loss_and_predict(model, make_batch(TWO_SIZES))


def test_ff_head_with_plain_extractor(request):
    """FF alone (AFP off): single-level extractor + FCFusionMaskHead."""
    cfg = model_cfg(str(request.config.rootpath), MASK_RCNN)
    cfg.roi_head.mask_head.update(type='FCFusionMaskHead', num_levels=1)
    run_loss_and_predict(build(cfg), make_batch(TWO_SIZES))
