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
