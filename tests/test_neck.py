# Copyright (c) mmpanet contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

IN_CHANNELS = [4, 8, 16, 32]


def make_inputs(channels, size=32, batch=2):
    torch.manual_seed(0)
    return tuple(
        torch.randn(batch, c, size // 2**i, size // 2**i)
        for i, c in enumerate(channels))


def conv(module, x):
    """Apply a ConvModule's conv by hand (no norm, activation given)."""
    c = module.conv
    return F.conv2d(x, c.weight, c.bias, c.stride, c.padding)


def reference_panet(neck, inputs):
    """The paper's recursion written out: FPN, then N2 = P2 and
    N(i+1) = relu(conv_b(relu(conv_a(N(i))) + P(i+1)))."""
    laterals = [conv(m, x) for m, x in zip(neck.lateral_convs, inputs)]
    for i in range(len(laterals) - 1, 0, -1):
        laterals[i - 1] = laterals[i - 1] + F.interpolate(
            laterals[i], size=laterals[i - 1].shape[2:], mode='nearest')
    p = [conv(m, x) for m, x in zip(neck.fpn_convs, laterals)]
    n = [p[0]]
    for i in range(len(p) - 1):
        a = F.relu(conv(neck.downsample_convs[i], n[i]))
        n.append(F.relu(conv(neck.bottom_up_convs[i], a + p[i + 1])))
    return n + [F.max_pool2d(n[-1], 1, stride=2)]


def build(**kwargs):
    cfg = dict(
        type='PathAggregationFPN',
        in_channels=IN_CHANNELS,
        out_channels=8,
        num_outs=5)
    cfg.update(kwargs)
    neck = MODELS.build(cfg)
    neck.init_weights()
    return neck


def test_matches_hand_written_recursion():
    neck = build()
    inputs = make_inputs(IN_CHANNELS)
    outs = neck(inputs)
    ref = reference_panet(neck, inputs)
    assert len(outs) == 5
    for out, expected in zip(outs, ref):
        torch.testing.assert_close(out, expected)
    # ReLU after the bottom-up convs; N2 = P2 keeps its negative values
    assert all((o >= 0).all() for o in outs[1:4])
    assert (outs[0] < 0).any()


def test_differs_from_mmdet_pafpn_recursion():
    """mmdet's PAFPN feeds the pre-conv sum forward: same weights, other
    outputs from N4 on."""
    neck = build(bottom_up_act_cfg=None)
    pafpn = MODELS.build(
        dict(
            type='PAFPN', in_channels=IN_CHANNELS, out_channels=8, num_outs=5))
    state = {
        k.replace('bottom_up_convs', 'pafpn_convs'): v
        for k, v in neck.state_dict().items()
    }
    pafpn.load_state_dict(state)
    inputs = make_inputs(IN_CHANNELS)
    ours, theirs = neck(inputs), pafpn(inputs)
    torch.testing.assert_close(ours[0], theirs[0])
    torch.testing.assert_close(ours[1], theirs[1])
    assert not torch.allclose(ours[3], theirs[3])


@pytest.mark.parametrize('norm_cfg', [
    dict(type='GN', num_groups=4),
    dict(type='BN'),
    dict(type='SyncBN'),
])
def test_norm_options(norm_cfg):
    from mmengine.model import revert_sync_batchnorm
    neck = revert_sync_batchnorm(build(bottom_up_norm_cfg=norm_cfg))
    assert all(m.with_norm for m in neck.bottom_up_convs)
    assert all(m.with_norm for m in neck.downsample_convs)
    # FPN's own convs keep FPN's settings: no norm, no activation
    assert not any(
        m.with_norm or m.with_activation
        for m in list(neck.lateral_convs) + list(neck.fpn_convs))
    outs = neck(make_inputs(IN_CHANNELS))
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 4, 2]


@pytest.mark.parametrize('channels,num_outs,extra', [
    ([3, 5, 7], 3, False),
    ([16, 32, 64, 128], 6, 'on_input'),
    ([16, 32, 64, 128], 5, 'on_output'),
    ([16, 32, 64, 128], 5, 'on_lateral'),
])
def test_levels_channels_and_extra_outputs(channels, num_outs, extra):
    neck = build(
        in_channels=channels, num_outs=num_outs, add_extra_convs=extra)
    assert len(neck.bottom_up_convs) == len(channels) - 1
    outs = neck(make_inputs(channels))
    assert len(outs) == num_outs
    sizes = [o.shape[-1] for o in outs]
    assert sizes == [max(32 // 2**i, 1) for i in range(num_outs)]
    assert all(o.shape[1] == 8 for o in outs)


def test_wrong_number_of_inputs_is_a_clear_error():
    neck = build()
    with pytest.raises(ValueError, match='got 3 feature maps'):
        neck(make_inputs(IN_CHANNELS)[:3])
