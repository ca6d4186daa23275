# Copyright (c) mmpanet contributors. All rights reserved.
import pytest
import torch
from mmcv.ops import RoIAlign
from mmdet.registry import MODELS

STRIDES = [4, 8, 16, 32]

IMPLEMENTATIONS = ['mmcv', 'gather']


def build(implementation='mmcv', **roi_layer):
    layer = dict(type='RoIAlign', output_size=7, sampling_ratio=2)
    layer.update(roi_layer)
    if layer['type'] == 'RoIPool':
        del layer['sampling_ratio']
    return MODELS.build(
        dict(
            type='AllLevelRoIExtractor',
            roi_layer=layer,
            out_channels=6,
            featmap_strides=STRIDES,
            implementation=implementation))


def make_feats(dtype=torch.float32, requires_grad=False):
    torch.manual_seed(0)
    return tuple(
        torch.randn(
            2, 6, 64 // s, 64 // s, dtype=dtype, requires_grad=requires_grad)
        for s in STRIDES)


# inside, on the border, tiny, and partly (or wholly) outside the map
ROIS = torch.tensor([[0, 2., 3., 10., 12.], [1, 0., 0., 63., 63.],
                     [0, 20., 8., 50., 30.], [1, -20., -6., 70., 90.],
                     [0, 30.2, 30.7, 30.4, 31.], [1, 66., 2., 80., 10.]])


@pytest.mark.parametrize('implementation', IMPLEMENTATIONS)
@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('output_size,sampling_ratio', [(7, 2), ((3, 5), 1),
                                                        (4, 3)])
def test_pools_every_roi_from_every_level_as_mmcv(implementation, aligned,
                                                  output_size, sampling_ratio):
    extractor = build(
        implementation,
        aligned=aligned,
        output_size=output_size,
        sampling_ratio=sampling_ratio)
    feats = make_feats(requires_grad=True)
    out = extractor(feats, ROIS)
    size = extractor.roi_layers[0].output_size
    assert out.shape == (len(ROIS), 4, 6) + size
    grad_out = torch.randn_like(out)
    grads = torch.autograd.grad(out, feats, grad_out)
    for level, stride in enumerate(STRIDES):
        expected = RoIAlign(
            size, 1 / stride, sampling_ratio, aligned=aligned)(feats[level],
                                                               ROIS)
        torch.testing.assert_close(out[:, level], expected)
        expected_grad, = torch.autograd.grad(expected, feats[level],
                                             grad_out[:, level])
        torch.testing.assert_close(grads[level], expected_grad)


@pytest.mark.parametrize('implementation', IMPLEMENTATIONS)
def test_every_level_receives_gradient(implementation):
    feats = make_feats(requires_grad=True)
    build(implementation)(feats, ROIS).sum().backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats)


@pytest.mark.parametrize('implementation', IMPLEMENTATIONS)
def test_zero_rois_gives_empty_result_in_graph(implementation):
    feats = make_feats(requires_grad=True)
    out = build(implementation)(feats, ROIS[:0])
    assert out.shape == (0, 4, 6, 7, 7)
    out.sum().backward()
    assert all(f.grad is not None for f in feats)


@pytest.mark.parametrize('implementation', IMPLEMENTATIONS)
@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_dtype_follows_features(implementation, dtype):
    feats = make_feats()
    out = build(implementation)(tuple(f.to(dtype) for f in feats), ROIS)
    assert out.dtype == dtype
    ref = build()(feats, ROIS)
    torch.testing.assert_close(out.float(), ref, atol=0.05, rtol=0.05)


@pytest.mark.parametrize('roi_layer,match', [
    (dict(sampling_ratio=0), 'sampling_ratio=N'),
    (dict(pool_mode='max'), "pool_mode='avg'"),
    (dict(type='RoIPool'), "type='RoIAlign'"),
])
def test_gather_needs_a_fixed_sampling_grid(roi_layer, match):
    with pytest.raises(ValueError, match=match):
        build('gather', **roi_layer)


@pytest.mark.parametrize(
    'roi_layer',
    [dict(sampling_ratio=0), dict(pool_mode='max')])
def test_auto_gathers_on_cpu_where_the_layer_allows(roi_layer):
    assert build('auto').uses_gather(torch.device('cpu'))
    assert not build('auto').uses_gather(torch.device('cuda'))
    fallback = build('auto', **roi_layer)  # mmcv's kernel, no error
    assert not fallback.uses_gather(torch.device('cpu'))
    feats = make_feats()
    torch.testing.assert_close(
        fallback(feats, ROIS),
        build('mmcv', **roi_layer)(feats, ROIS))


def test_unknown_implementation_is_named():
    with pytest.raises(ValueError, match='implementation must be one of'):
        build('cuda')


def test_level_count_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='4 featmap_strides but got 3'):
        build()(make_feats()[:3], ROIS)


@pytest.mark.parametrize('implementation', IMPLEMENTATIONS)
def test_roi_scale_factor_enlarges_rois(implementation):
    extractor = build(implementation)
    feats = make_feats()
    scaled = ROIS.clone()
    scaled[:, 1:] = extractor.roi_rescale(ROIS, 1.5)[:, 1:]
    torch.testing.assert_close(
        extractor(feats, ROIS, roi_scale_factor=1.5), extractor(feats, scaled))


def test_gather_reads_channels_last_features_as_they_are():
    feats = make_feats()
    last = tuple(
        f.contiguous(memory_format=torch.channels_last) for f in feats)
    torch.testing.assert_close(
        build('gather')(last, ROIS),
        build('mmcv')(feats, ROIS))
