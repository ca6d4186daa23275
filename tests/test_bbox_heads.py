# Copyright (c) mmpanet contributors. All rights reserved.
import re

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.model import revert_sync_batchnorm

from mmpanet.models.layers import FUSION_OPS


def build(type='AFPShared2FCBBoxHead', **kwargs):
    cfg = dict(
        type=type,
        in_channels=256,
        fc_out_channels=1024,
        roi_feat_size=7,
        num_classes=80)
    cfg.update(kwargs)
    head = revert_sync_batchnorm(MODELS.build(cfg))
    head.init_weights()
    return head


def small(type='AFPShared2FCBBoxHead', **kwargs):
    cfg = dict(
        in_channels=8,
        fc_out_channels=16,
        conv_out_channels=8,
        roi_feat_size=3,
        num_classes=3)
    cfg.update(kwargs)
    return build(type, **cfg)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_2fc_parameter_counts_match_spec():
    head = build()
    fc1 = head.shared_fcs[0]
    assert len(fc1.layers) == 4
    assert n_params(fc1) == 4 * (12544 * 1024 + 1024)
    assert n_params(head.shared_fcs[1]) == 1024 * 1024 + 1024
    # fusion right after RoIAlign: a single fc1
    head = build(fuse_after='roi_align')
    assert n_params(head.shared_fcs[0]) == 12544 * 1024 + 1024


def test_4conv1fc_parameter_counts_match_spec():
    head = build('AFPShared4Conv1FCBBoxHead')
    conv1 = head.shared_convs[0]
    assert len(conv1.layers) == 4
    assert n_params(conv1) == 4 * (256 * 256 * 9 + 256)
    assert len(head.shared_convs) == 4
    assert n_params(head.shared_convs[1:]) == 3 * (256 * 256 * 9 + 256)
    assert n_params(head.shared_fcs) == 12544 * 1024 + 1024


@pytest.mark.parametrize('type',
                         ['AFPShared2FCBBoxHead', 'AFPShared4Conv1FCBBoxHead'])
def test_per_level_layers_are_separate_and_all_get_gradients(type):
    head = small(type)
    first = (head.shared_convs or head.shared_fcs)[0]
    weights = [
        layer.conv.weight if hasattr(layer, 'conv') else layer.fc.weight
        for layer in first.layers
    ]
    assert len({w.data_ptr() for w in weights}) == 4
    assert not all(torch.equal(weights[0], w) for w in weights[1:])
    x = torch.randn(5, 4, 8, 3, 3)
    cls_score, bbox_pred = head(x)
    assert cls_score.shape == (5, 4) and bbox_pred.shape == (5, 12)
    (cls_score.sum() + bbox_pred.sum()).backward()
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)


@pytest.mark.parametrize('fusion', ['max', 'sum'])
def test_2fc_forward_equals_direct_computation(fusion):
    head = small(fusion=fusion).eval()
    x = torch.randn(5, 4, 8, 3, 3)
    outs = [
        torch.relu(layer.fc(x[:, i].flatten(1)))
        for i, layer in enumerate(head.shared_fcs[0].layers)
    ]
    stacked = torch.stack(outs)
    fused = stacked.amax(0) if fusion == 'max' else stacked.sum(0)
    fc2 = torch.relu(head.shared_fcs[1].fc(fused))
    cls_score, bbox_pred = head(x)
    torch.testing.assert_close(cls_score, head.fc_cls(fc2))
    torch.testing.assert_close(bbox_pred, head.fc_reg(fc2))


def test_fuse_after_roi_align_fuses_the_grids():
    head = small(fuse_after='roi_align').eval()
    x = torch.randn(5, 4, 8, 3, 3)
    fc1 = head.shared_fcs[0].layers[0]
    fused = torch.relu(fc1.fc(x.amax(1).flatten(1)))
    fc2 = torch.relu(head.shared_fcs[1].fc(fused))
    torch.testing.assert_close(head(x)[0], head.fc_cls(fc2))


@pytest.mark.parametrize('norm_cfg', [
    dict(type='GN', num_groups=4),
    dict(type='BN'),
    dict(type='SyncBN'),
])
@pytest.mark.parametrize('type',
                         ['AFPShared2FCBBoxHead', 'AFPShared4Conv1FCBBoxHead'])
def test_norm_on_convs_and_fcs(type, norm_cfg):
    from mmcv.cnn import ConvModule

    from mmpanet.models.layers import FCModule
    head = small(type, norm_cfg=norm_cfg)
    layers = [
        m for m in head.modules() if isinstance(m, (ConvModule, FCModule))
    ]
    expected = 5 if type == 'AFPShared2FCBBoxHead' else 4 + 3 + 1
    assert len(layers) == expected
    assert all(layer.with_norm for layer in layers)
    cls_score, _ = head(torch.randn(5, 4, 8, 3, 3))
    assert torch.isfinite(cls_score).all()


def test_zero_rois():
    head = small('AFPShared4Conv1FCBBoxHead')
    cls_score, bbox_pred = head(torch.zeros(0, 4, 8, 3, 3))
    assert cls_score.shape == (0, 4) and bbox_pred.shape == (0, 12)


@pytest.mark.parametrize('kwargs,message', [
    (dict(fusion='mean'),
     'bbox_head.fusion must be one of ' + re.escape(str(tuple(FUSION_OPS)))),
    (dict(fuse_after='fc2'),
     r"bbox_head.fuse_after must be one of \('fc1', 'roi_align'\)"),
    (dict(num_levels=0), 'bbox_head.num_levels must be a positive int'),
    (dict(num_cls_fcs=1), 'bbox_head.num_cls_fcs must be 0'),
    (dict(with_avg_pool=True), 'bbox_head.with_avg_pool must be False'),
])
def test_bad_options_name_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        small(**kwargs)


def test_level_mismatch_names_both_keys():
    head = small(num_levels=3)
    with pytest.raises(
            ValueError,
            match='num_levels is 3 .* gave 4.*bbox_head.num_levels'
            ".*featmap_strides"):
        head(torch.randn(2, 4, 8, 3, 3))


@pytest.mark.parametrize('norm', [None, 'BN', 'GN'])
def test_grouped_conv1_equals_loop_over_levels(norm):
    """The 4conv1fc head's per-level conv1 runs as one grouped convolution;
    outputs, gradients and BN running statistics equal a loop over the
    levels."""
    norm_cfg = dict(
        type=norm, num_groups=2) if norm == 'GN' else (dict(
            type=norm) if norm else None)
    head = small('AFPShared4Conv1FCBBoxHead', norm_cfg=norm_cfg).train()
    looped = small(
        'AFPShared4Conv1FCBBoxHead', norm_cfg=norm_cfg,
        grouped_conv=False).train()
    looped.load_state_dict(head.state_dict())
    assert head.shared_convs[0].layers.grouped_conv
    assert not looped.shared_convs[0].layers.grouped_conv
    x = torch.randn(5, 4, 8, 3, 3)
    runs = []
    for model in (head, looped):
        xr = x.clone().requires_grad_()
        cls_score, bbox_pred = model(xr)
        (cls_score.sum() + bbox_pred.square().sum()).backward()
        runs.append((model, cls_score, xr.grad))
    (grouped, out_g, x_grad_g), (loop, out_l, x_grad_l) = runs
    torch.testing.assert_close(out_g, out_l)
    torch.testing.assert_close(x_grad_g, x_grad_l)
    for (name, p_g), p_l in zip(grouped.named_parameters(), loop.parameters()):
        torch.testing.assert_close(p_g.grad, p_l.grad, msg=name)
    for (name, b_g), b_l in zip(grouped.named_buffers(), loop.buffers()):
        torch.testing.assert_close(b_g, b_l, msg=name)


def test_normed_2fc_head_is_mmdets_2fc_head_with_norms_on_its_fcs():
    """Table 3 row 4's head: without a norm it computes what mmdet's
    Shared2FCBBoxHead computes; with one, a norm follows each fc."""
    cfg = dict(
        in_channels=8, fc_out_channels=16, roi_feat_size=3, num_classes=3)
    ours = build('NormedShared2FCBBoxHead', **cfg).eval()
    mmdet = build('Shared2FCBBoxHead', **cfg).eval()
    mmdet.load_state_dict({
        k.replace('.fc.', '.'): v
        for k, v in ours.state_dict().items()
    })
    x = torch.randn(5, 8, 3, 3)
    for a, b in zip(ours(x), mmdet(x)):
        torch.testing.assert_close(a, b)

    normed = build('NormedShared2FCBBoxHead', norm_cfg=dict(type='BN'), **cfg)
    assert [fc.with_norm for fc in normed.shared_fcs] == [True, True]
    assert all(fc.fc.bias is None for fc in normed.shared_fcs)  # 'auto'
    with_bias = build(
        'NormedShared2FCBBoxHead',
        norm_cfg=dict(type='GN', num_groups=4),
        fc_bias=True,
        **cfg)
    assert all(fc.fc.bias is not None for fc in with_bias.shared_fcs)
    no_fc_norm = build(
        'NormedShared2FCBBoxHead',
        norm_cfg=dict(type='BN'),
        norm_fcs=False,
        **cfg)
    assert not any(fc.with_norm for fc in no_fc_norm.shared_fcs)


def test_per_level_stage_is_a_module_whose_output_is_the_levels():
    """The per-level stage's forward returns one tensor per level (what a
    forward hook sees), and the head fuses them."""
    head = small('AFPShared4Conv1FCBBoxHead').eval()
    stage = head.shared_convs[0].layers
    seen = []
    handle = stage.register_forward_hook(lambda m, a, out: seen.append(out))
    x = torch.randn(5, 4, 8, 3, 3)
    fused = head.shared_convs[0](x)
    handle.remove()
    (levels, ) = seen
    assert len(levels) == 4 and levels[0].shape == (5, 8, 3, 3)
    torch.testing.assert_close(fused, torch.stack(levels).amax(0))
    expected = [layer(x[:, i]) for i, layer in enumerate(stage)]
    for got, want in zip(levels, expected):
        torch.testing.assert_close(got, want)
