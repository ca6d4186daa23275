# Copyright (c) mmpanet contributors. All rights reserved.
import re

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

from mmpanet.models.layers import FUSION_OPS


def build(type='FCFusionMaskHead', **kwargs):
    cfg = dict(type=type, num_classes=80)
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def small(type='FCFusionMaskHead', **kwargs):
    cfg = dict(
        in_channels=8, conv_out_channels=8, roi_feat_size=6, num_classes=3)
    cfg.update(kwargs)
    return build(type, **cfg)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_match_spec():
    head = build()
    assert len(head.convs[0].layers) == 4
    assert n_params(head.convs[0]) == 4 * (256 * 256 * 9 + 256)
    conv4_fc, conv5_fc = head.ff_convs
    assert n_params(conv4_fc) == 256 * 256 * 9 + 256
    assert n_params(conv5_fc) == 256 * 128 * 9 + 128
    assert n_params(head.ff_fc) == 25088 * 784 + 784
    assert head.mask_size == (28, 28)


def reference(head, x, ff_index, ff_op, relu=False):
    """FF written out with the head's weights (num_levels=4, max fusion)."""
    levels = [layer(x[:, i]) for i, layer in enumerate(head.convs[0].layers)]
    h = torch.stack(levels).amax(0)
    feats = [h]
    for conv in head.convs[1:]:
        h = conv(h)
        feats.append(h)
    logits = head.conv_logits(F.relu(head.upsample(h)))
    fc = head.ff_fc.fc(head.ff_convs(feats[ff_index]).flatten(1))
    fc = F.relu(fc) if relu else fc
    fc = fc.view(-1, 1, *head.mask_size)
    return {
        'sum': logits + fc,
        'max': torch.maximum(logits, fc.expand_as(logits)),
        'prod': logits * fc
    }[ff_op]


@pytest.mark.parametrize('ff_after,ff_index', [('conv2', 1), ('conv3', 2),
                                               ('conv4', 3)])
@pytest.mark.parametrize('ff_fusion', ['sum', 'max', 'prod'])
def test_forward_equals_direct_computation(ff_after, ff_index, ff_fusion):
    head = small(ff_after=ff_after, ff_fusion=ff_fusion).eval()
    x = torch.randn(5, 4, 8, 6, 6)
    out = head(x)
    assert out.shape == (5, 3, 12, 12)
    torch.testing.assert_close(out, reference(head, x, ff_index, ff_fusion))


def test_fc_relu_option():
    head = small(ff_fc_relu=True).eval()
    x = torch.randn(5, 4, 8, 6, 6)
    torch.testing.assert_close(
        head(x), reference(head, x, 2, 'sum', relu=True))
    assert head.ff_fc.activate is not None
    assert small().ff_fc.activate is None


def test_per_level_convs_separate_and_all_get_gradients():
    head = small()
    weights = [m.conv.weight for m in head.convs[0].layers]
    assert len({w.data_ptr() for w in weights}) == 4
    out = head(torch.randn(5, 4, 8, 6, 6))
    out.sum().backward()
    assert all(w.grad.abs().sum() > 0 for w in weights)
    assert head.ff_fc.fc.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('type', ['FCFusionMaskHead', 'AFPFCNMaskHead'])
def test_single_level_input_keeps_the_layout(type):
    """One level or four, conv1 sits in the same place of the state dict
    (as the box head's first layer); weights saved with a plain conv1
    (``convs.0.conv.*``, before the heads shared this rule) still load."""
    head = small(type, num_levels=1)
    assert len(head.convs[0].layers) == 1
    out = head(torch.randn(5, 8, 6, 6))
    assert out.shape == (5, 3, 12, 12)
    old = {
        k.replace('convs.0.layers.0.', 'convs.0.'): v
        for k, v in head.state_dict().items()
    }
    assert 'convs.0.conv.weight' in old
    fresh = small(type, num_levels=1)
    fresh.load_state_dict(old)  # strict
    for key, value in head.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_afp_fcn_head_equals_fcn_with_fused_conv1():
    head = small('AFPFCNMaskHead', fusion='sum').eval()
    x = torch.randn(5, 4, 8, 6, 6)
    h = sum(layer(x[:, i]) for i, layer in enumerate(head.convs[0].layers))
    for conv in head.convs[1:]:
        h = conv(h)
    expected = head.conv_logits(F.relu(head.upsample(h)))
    torch.testing.assert_close(head(x), expected)


def test_zero_rois_and_gn():
    head = small(norm_cfg=dict(type='GN', num_groups=4))
    assert head(torch.zeros(0, 4, 8, 6, 6)).shape == (0, 3, 12, 12)


@pytest.mark.parametrize('kwargs,message', [
    (dict(ff_after='conv5'), r"mask_head.ff_after must be one of \('conv1', "
     r"'conv2', 'conv3', 'conv4'\), got 'conv5'"),
    (dict(ff_fusion='mean'), 'mask_head.ff_fusion must be one of'),
    (dict(fusion='mean'),
     'mask_head.fusion must be one of ' + re.escape(str(tuple(FUSION_OPS)))),
    (dict(fuse_after='conv2'), 'mask_head.fuse_after must be one of'),
    (dict(num_levels=-1), 'mask_head.num_levels must be a positive int'),
    (dict(upsample_cfg=dict(type='carafe', scale_factor=2)),
     'upsample_cfg.type'),
])
def test_bad_options_name_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        small(**kwargs)


def test_mismatched_inputs_are_clear_errors():
    head = small(num_levels=3)
    with pytest.raises(
            ValueError, match='num_levels is 3 .*mask_head.num_levels'):
        head(torch.randn(2, 4, 8, 6, 6))
    with pytest.raises(ValueError, match='roi_feat_size'):
        small()(torch.randn(2, 4, 8, 7, 7))
