# Copyright (c) mmpanet contributors. All rights reserved.
import pytest
import torch

from mmpanet.models.layers import fuse


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


def test_fuse_rejects_unknown_op_and_empty_input():
    with pytest.raises(
            ValueError,
            match=r"op must be one of \('max', "
            r"'sum', 'prod'\), got 'mean'"):
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
