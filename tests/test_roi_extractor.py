# Copyright (c) mmpanet contributors. All rights reserved.
import pytest
import torch
from mmcv.ops import RoIAlign
from mmdet.registry import MODELS

STRIDES = [4, 8, 16, 32]


def build(**roi_layer):
    layer = dict(type='RoIAlign', output_size=7, sampling_ratio=2)
    layer.update(roi_layer)
    return MODELS.build(
        dict(
            type='AllLevelRoIExtractor',
            roi_layer=layer,
            out_channels=6,
            featmap_strides=STRIDES))


def make_feats(dtype=torch.float32, requires_grad=False):
    torch.manual_seed(0)
    return tuple(
        torch.randn(
            2, 6, 64 // s, 64 // s, dtype=dtype, requires_grad=requires_grad)
        for s in STRIDES)


ROIS = torch.tensor([[0, 2., 3., 10., 12.], [1, 0., 0., 63., 63.],
                     [0, 20., 8., 50., 30.]])


@pytest.mark.parametrize('aligned', [True, False])
def test_pools_every_roi_from_every_level(aligned):
    extractor = build(aligned=aligned)
    feats = make_feats()
    out = extractor(feats, ROIS)
    assert out.shape == (3, 4, 6, 7, 7)
    for level, stride in enumerate(STRIDES):
        expected = RoIAlign(
            7, 1 / stride, 2, aligned=aligned)(feats[level], ROIS)
        torch.testing.assert_close(out[:, level], expected)


def test_every_level_receives_gradient():
    feats = make_feats(requires_grad=True)
    build()(feats, ROIS).sum().backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats)


def test_zero_rois_gives_empty_result_in_graph():
    feats = make_feats(requires_grad=True)
    out = build()(feats, ROIS[:0])
    assert out.shape == (0, 4, 6, 7, 7)
    out.sum().backward()
    assert all(f.grad is not None for f in feats)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_dtype_follows_features(dtype):
    feats = make_feats()
    out = build()(tuple(f.to(dtype) for f in feats), ROIS)
    assert out.dtype == dtype
    ref = build()(feats, ROIS)
    torch.testing.assert_close(out.float(), ref, atol=0.05, rtol=0.05)


def test_level_count_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='4 featmap_strides but got 3'):
        build()(make_feats()[:3], ROIS)


def test_roi_scale_factor_enlarges_rois():
    extractor = build()
    feats = make_feats()
    scaled = ROIS.clone()
    scaled[:, 1:] = extractor.roi_rescale(ROIS, 1.5)[:, 1:]
    torch.testing.assert_close(
        extractor(feats, ROIS, roi_scale_factor=1.5), extractor(feats, scaled))
