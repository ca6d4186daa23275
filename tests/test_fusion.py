# Copyright (c) mmpanet contributors. All rights reserved.
import re

import pytest
import torch

from mmpanet.models.layers import FUSION_OPS, fuse


@pytest.mark.parametrize('op,reference', [
    ('max', lambda s: s.amax(0)),
    ('sum', lambda s: s.sum(0)),
    ('prod', lambda s: s.prod(0)),
])
def test_fuse_matches_direct_reduction(op, reference):
    torch.manual_seed(0)
    tensors = [torch.randn(3, 5, 4, 4) for _ in range(4)]
    assert torch.equal(fuse(tensors, op), reference(torch.stack(tensors)))


@pytest.mark.parametrize('op', ['max', 'sum', 'prod'])
def test_fuse_broadcasts_class_agnostic_map(op):
    logits = torch.randn(2, 7, 6, 6)
    fg = torch.randn(2, 1, 6, 6)
    expected = {
        'max': torch.maximum(logits, fg.expand_as(logits)),
        'sum': logits + fg,
        'prod': logits * fg
    }[op]
    assert torch.equal(fuse([logits, fg], op), expected)


@pytest.mark.parametrize(
    'dtype', [torch.float64, torch.float32, torch.bfloat16, torch.float16])
def test_max_fusion_gradient_goes_to_every_maximum(dtype):
    """Max fusion's gradient goes whole to each input equal to the maximum
    (ties included, as Caffe2's Max gradient) and to no other, exactly, in
    every float type; inputs after ReLU tie at 0."""
    torch.manual_seed(0)
    tensors = [
        torch.randn(3, 5, 4, 4).relu().to(dtype).requires_grad_()
        for _ in range(4)
    ]
    with torch.no_grad():  # exact ties between positive values too
        tensors[2][0] = tensors[1][0]
    grad = torch.randn(3, 5, 4, 4).to(dtype)
    fused = fuse(tensors, 'max')
    grads = torch.autograd.grad(fused, tensors, grad)
    stacked = torch.stack([t.detach() for t in tensors])
    assert torch.equal(fused, stacked.amax(0))
    for t, g in zip(tensors, grads):
        assert g.dtype == dtype
        assert torch.equal(g, torch.where(t == fused, grad, 0))
    assert (grads[1][0] != 0).any() and torch.equal(grads[1][0], grads[2][0])


def test_max_fusion_gradient_broadcast_and_gradcheck():
    torch.manual_seed(0)
    logits = torch.randn(2, 7, 6, 6, dtype=torch.float64, requires_grad=True)
    fg = torch.randn(2, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: fuse([a, b], 'max'),
                                    (logits, fg))
    g_logits, g_fg = torch.autograd.grad(
        fuse([logits, fg], 'max').sum(), (logits, fg))
    assert g_fg.shape == fg.shape
    assert torch.equal(g_fg, (fg >= logits).double().sum(1, keepdim=True))
    assert torch.equal(g_logits, (logits >= fg).double())


def test_fuse_rejects_unknown_op_and_empty_input():
    with pytest.raises(
            ValueError,
            match=re.escape(f"op must be one of {tuple(FUSION_OPS)}, got "
                            "'mean'")):
        fuse([torch.zeros(1)], 'mean')
    with pytest.raises(ValueError, match='at least one'):
        fuse([], 'max')


def test_a_new_table_entry_works_in_afp_and_ff(monkeypatch):
    """Adding an op is one entry in FUSION_OPS: validation, the AFP heads
    and the FF mask head take it with no other edit."""
    from mmdet.registry import MODELS

    from mmpanet.models.layers import FUSION_OPS
    monkeypatch.setitem(FUSION_OPS, 'min', torch.minimum)
    torch.manual_seed(0)
    x = torch.randn(5, 4, 8, 6, 6)

    def min_over_levels(first_layer):  # each level's own layer, then min
        levels = [layer(x[:, i]) for i, layer in enumerate(first_layer)]
        return torch.stack(levels).amin(0)

    box = MODELS.build(
        dict(
            type='AFPShared2FCBBoxHead',
            in_channels=8,
            fc_out_channels=16,
            roi_feat_size=6,
            num_classes=3,
            fusion='min')).eval()
    fused = min_over_levels(box.shared_fcs[0].layers)
    torch.testing.assert_close(box(x)[0], box.fc_cls(box.shared_fcs[1](fused)))

    mask = MODELS.build(
        dict(
            type='FCFusionMaskHead',
            in_channels=8,
            conv_out_channels=8,
            roi_feat_size=6,
            num_classes=3,
            fusion='min',
            ff_fusion='min')).eval()
    h = mask.convs[1](min_over_levels(mask.convs[0].layers))
    h = mask.convs[2](h)
    ff = mask.ff_fc(mask.ff_convs(h)).view(-1, 1, 12, 12)
    logits = mask.conv_logits(mask.relu(mask.upsample(mask.convs[3](h))))
    torch.testing.assert_close(mask(x), torch.minimum(logits, ff))

    with pytest.raises(ValueError, match=r"\('max', 'sum', 'prod', 'min'\)"):
        fuse([x], 'mean')
