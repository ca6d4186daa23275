# Copyright (c) mmpanet contributors. All rights reserved.
"""RoIAlign of every RoI from every level in one weighted gather (Sec. 3.2).

mmcv's RoIAlign computes each output bin as the mean of
``sampling_ratio ** 2`` bilinear samples, each a weighted sum of four
pixels. With a fixed ``sampling_ratio`` that is a fixed number ``K = (2 *
sampling_ratio) ** 2`` of (pixel, weight) pairs per bin. Here the pairs of all
RoIs on all levels are computed at once, with mmcv's rules for samples near
and outside the border, and the whole pooling is one
``F.embedding_bag(mode='sum')`` over the levels' pixels stacked as rows
``(sum_l B * H_l * W_l, C)``. Its backward is the same gather the other way
(the pairs sorted by pixel), so both directions run multithreaded, where
mmcv's CPU kernel pools one level per call on one core.

The result equals mmcv's ``roi_align(..., pool_mode='avg')`` up to float
summation order (``tests/test_roi_extractor.py`` compares values and
gradients).
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _axis_pairs(start: Tensor, end: Tensor, bins: int, sampling_ratio: int,
                length: int, aligned: bool) -> Tuple[Tensor, Tensor]:
    """Pixel indices and weights along one axis, ``(n, bins, 2 * sr)``
    each, for RoIs spanning ``[start, end)`` (feature-map coordinates)."""
    if aligned:
        start, end = start - 0.5, end - 0.5
        size = end - start
    else:
        size = (end - start).clamp(min=1.0)
    step = (size / bins)[:, None, None]
    bin_idx = torch.arange(bins, dtype=start.dtype, device=start.device)
    sample = torch.arange(
        sampling_ratio, dtype=start.dtype, device=start.device) + 0.5
    pos = (
        start[:, None, None] + bin_idx[None, :, None] * step +
        sample[None, None, :] * step / sampling_ratio)
    # mmcv: samples beyond one pixel outside the map contribute zero;
    # the rest are clamped into the map
    inside = (pos >= -1.0) & (pos <= length)
    pos = pos.clamp(min=0.0)
    low = pos.floor().long()
    at_edge = low >= length - 1
    low = low.clamp(max=length - 1)
    high = torch.where(at_edge, low, low + 1)
    frac = torch.where(at_edge, torch.zeros_like(pos), pos - low)
    scale = inside.to(pos.dtype) / sampling_ratio
    index = torch.stack([low, high], dim=-1).flatten(2)
    weight = torch.stack([(1 - frac) * scale, frac * scale], -1).flatten(2)
    return index, weight


class _WeightedGather(torch.autograd.Function):
    """``out[m] = sum_k weight[m, k] * rows[index[m, k]]`` and its
    gradient with respect to ``rows``."""

    @staticmethod
    def forward(ctx, rows: Tensor, index: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(index, weight)
        ctx.num_rows = rows.shape[0]
        return F.embedding_bag(
            index, rows, per_sample_weights=weight, mode='sum')

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        index, weight = ctx.saved_tensors
        flat_index = index.flatten()
        # int32 sorts about twice as fast; pixel rows fit in it
        order = torch.argsort(flat_index.int())
        counts = torch.bincount(flat_index, minlength=ctx.num_rows)
        offsets = counts.cumsum(0) - counts
        grad_rows = F.embedding_bag(
            torch.div(order, index.shape[1], rounding_mode='floor'),
            grad_out.contiguous(),
            offsets,
            per_sample_weights=weight.flatten()[order],
            mode='sum')
        return grad_rows, None, None


def multi_level_roi_align(
        feats: Sequence[Tensor],
        rois: Tensor,
        output_size: Tuple[int, int],
        spatial_scales: Sequence[float],
        sampling_ratio: int,
        aligned: bool,
        compute_dtype: Optional[torch.dtype] = None) -> Tensor:
    """Pool ``rois`` ``(n, 5)`` from every level of ``feats`` ``(B, C, H_l,
    W_l)``, as mmcv's ``roi_align(feat_l, rois, output_size,
    spatial_scales[l], sampling_ratio, 'avg', aligned)`` for each ``l``.

    ``compute_dtype`` (default: the features') is what the samples are
    summed in; the features are converted while they are laid out as
    pixel rows (one pass). Summing 16 bf16 samples per bin in bf16 errs by
    a few percent: pool bf16 features in fp32.

    Returns:
        Tensor: ``(n, num_levels, C, out_h, out_w)``, a view of a
        channels-last buffer, in ``compute_dtype``.
    """
    if sampling_ratio <= 0:
        raise ValueError('multi_level_roi_align needs a fixed sampling_ratio '
                         f'> 0, got {sampling_ratio}')
    out_h, out_w = output_size
    num_rois, channels = rois.shape[0], feats[0].shape[1]
    levels = [f.permute(0, 2, 3, 1).reshape(-1, channels) for f in feats]
    if compute_dtype is None or compute_dtype == feats[0].dtype:
        rows = torch.cat(levels)
    else:  # one pass: layout and dtype
        rows = levels[0].new_empty((sum(len(x) for x in levels), channels),
                                   dtype=compute_dtype)
        start = 0
        for level in levels:
            rows[start:start + len(level)] = level
            start += len(level)
    # the geometry in fp32 at least (a bf16 coordinate of 1216 is off by
    # up to 4 pixels); the gather in the features' dtype
    rois = rois.detach().to(torch.promote_types(rois.dtype, torch.float32))
    image = rois[:, 0].long()
    pairs = (2 * sampling_ratio)**2
    index, weight, first_row = [], [], 0
    for feat, scale in zip(feats, spatial_scales):
        height, width = feat.shape[2:]
        x1, y1, x2, y2 = (rois[:, 1:] * scale).unbind(1)
        y_idx, y_w = _axis_pairs(y1, y2, out_h, sampling_ratio, height,
                                 aligned)
        x_idx, x_w = _axis_pairs(x1, x2, out_w, sampling_ratio, width, aligned)
        # (n, out_h, out_w, 2sr, 2sr): every (row, column) pair of a bin
        pixel = (
            first_row + image[:, None, None, None, None] * height * width +
            y_idx[:, :, None, :, None] * width + x_idx[:, None, :, None, :])
        pair_w = y_w[:, :, None, :, None] * x_w[:, None, :, None, :]
        index.append(pixel.reshape(num_rois, 1, out_h * out_w, pairs))
        weight.append(pair_w.reshape(num_rois, 1, out_h * out_w, pairs))
        first_row += feat.shape[0] * height * width
    index = torch.cat(index, dim=1).reshape(-1, pairs)
    weight = torch.cat(weight, dim=1).reshape(-1, pairs).to(rows.dtype)
    out = _WeightedGather.apply(rows, index, weight)
    return out.view(num_rois, len(feats), out_h, out_w,
                    channels).permute(0, 1, 4, 2, 3)
