# Copyright (c) mmpanet contributors. All rights reserved.
"""The two detector ops ONNX has but torch does not: RoIAlign and
class-wise NMS, as torch custom ops (mmcv's kernels when run eagerly) with
their ONNX translations (``RoiAlign`` from opset 16, ``NonMaxSuppression``)
for ``torch.onnx.export(..., dynamo=True)``."""
import torch
from torch import Tensor


@torch.library.custom_op('mmpanet::roi_align', mutates_args=())
def roi_align(feat: Tensor, rois: Tensor, output_size: int,
              spatial_scale: float, sampling_ratio: int,
              aligned: bool) -> Tensor:
    """mmcv's ``roi_align`` (average pooling) of ``rois`` ``(n, 5)`` on
    ``feat`` ``(B, C, H, W)``: ``(n, C, output_size, output_size)``."""
    from mmcv.ops import roi_align as mmcv_roi_align
    return mmcv_roi_align(feat.float(), rois.float(), output_size,
                          spatial_scale, sampling_ratio, 'avg', aligned)


@roi_align.register_fake
def _(feat, rois, output_size, spatial_scale, sampling_ratio, aligned):
    return feat.new_empty(
        (rois.shape[0], feat.shape[1], output_size, output_size))


def roi_align_onnx(feat, rois, output_size: int, spatial_scale: float,
                   sampling_ratio: int, aligned: bool):
    """ONNX ``RoiAlign``: ``half_pixel`` is mmcv's ``aligned=True``,
    ``output_half_pixel`` its ``aligned=False`` (boxes at least 1 wide)."""
    from onnxscript import opset18 as op
    batch = op.Cast(
        op.Reshape(op.Slice(rois, [0], [1], [1]), [-1]), to=7)  # int64
    boxes = op.Slice(rois, [1], [5], [1])
    return op.RoiAlign(
        feat,
        boxes,
        batch,
        coordinate_transformation_mode='half_pixel'
        if aligned else 'output_half_pixel',
        mode='avg',
        output_height=output_size,
        output_width=output_size,
        sampling_ratio=sampling_ratio,
        spatial_scale=spatial_scale)


@torch.library.custom_op('mmpanet::classwise_nms', mutates_args=())
def classwise_nms(boxes: Tensor, scores: Tensor, labels: Tensor,
                  num_classes: int, iou_threshold: float,
                  max_per_label: int) -> Tensor:
    """Indices of ``boxes`` ``(n, 4)`` kept by NMS within each label (mmcv's
    ``nms``), at most ``max_per_label`` of each label (its best), ordered
    by score, highest first.

    A caller that keeps the ``k`` best of the result loses nothing with
    ``max_per_label=k``: within a label NMS keeps boxes in score order.
    """
    from mmcv.ops import nms
    keep = []
    for c in labels.unique().tolist():
        inds = torch.nonzero(labels == c).flatten()
        _, k = nms(boxes[inds].float(), scores[inds].float(), iou_threshold)
        keep.append(inds[k[:max_per_label]])
    if not keep:
        return labels.new_zeros(0)
    keep = torch.cat(keep)
    return keep[scores[keep].argsort(descending=True, stable=True)]


@classwise_nms.register_fake
def _(boxes, scores, labels, num_classes, iou_threshold, max_per_label):
    size = torch.library.get_ctx().new_dynamic_size()
    return labels.new_empty((size, ))


def classwise_nms_onnx(boxes, scores, labels, num_classes: int,
                       iou_threshold: float, max_per_label: int):
    """ONNX ``NonMaxSuppression`` with one class per label: each box scores
    only in its own class (0 elsewhere, below the score threshold 0), so
    NMS runs within each label on the boxes as they are and stops at
    ``max_per_label`` boxes of a label; the kept indices are then ordered
    by score."""
    from onnxscript import opset18 as op
    one_hot = op.OneHot(labels, op.Constant(value_int=num_classes),
                        op.Constant(value_floats=[0.0, 1.0]))
    class_scores = op.Unsqueeze(
        op.Transpose(op.Mul(one_hot, op.Unsqueeze(scores, [1])), perm=[1, 0]),
        [0])
    selected = op.NonMaxSuppression(
        op.Unsqueeze(boxes, [0]), class_scores,
        op.Constant(value_int=max_per_label),
        op.Constant(value_float=iou_threshold), op.Constant(value_float=0.0))
    keep = op.Reshape(op.Slice(selected, [2], [3], [1]), [-1])
    kept_scores = op.Gather(scores, keep)
    _, order = op.TopK(
        kept_scores, op.Reshape(op.Size(keep), [1]), largest=1, sorted=1)
    return op.Gather(keep, order)


# custom op -> its ONNX translation (torch.onnx.export's
# custom_translation_table)
ONNX_TRANSLATIONS = {
    torch.ops.mmpanet.roi_align.default: roi_align_onnx,
    torch.ops.mmpanet.classwise_nms.default: classwise_nms_onnx,
}
