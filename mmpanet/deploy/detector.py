# Copyright (c) mmpanet contributors. All rights reserved.
"""A two-stage detector's inference as one graph of tensor ops, for ONNX.

:class:`ExportableDetector` runs the detector's own modules (backbone,
neck, RPN head, the RoI heads' layers) and writes, without Python control
flow on data, what mmdet's ``predict(..., rescale=False)`` computes around
them: anchors, box decoding, the RPN's per-level top-k and NMS, the RoI
pooling of every level, the box head's per-class NMS and the mask head's
probabilities. It takes one preprocessed image ``(1, 3, H, W)`` (normalised,
padded) and returns ``boxes (N, 4)`` in its pixels, ``scores (N,)``,
``labels (N,)`` and ``masks (N, M, M)``, the mask head's probabilities for
each detection's class.
"""
import copy
import math
from typing import List, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmdet.models.dense_heads import RPNHead
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanet.models import AllLevelRoIExtractor
from mmpanet.models.data_preprocessors import MEMORY_FORMATS
from .ops import classwise_nms, roi_align

# modules the graph cannot hold (a message names them before tracing)
UNSUPPORTED = {
    'ModulatedDeformConv2d': 'deformable convolution has no standard ONNX op',
    'DeformConv2d': 'deformable convolution has no standard ONNX op',
    'DeformConv2dPack': 'deformable convolution has no standard ONNX op',
    'ModulatedDeformConv2dPack':
    'deformable convolution has no standard ONNX op',
}

# the ratio mmdet's heads decode with (``DeltaXYWHBBoxCoder.decode``'s
# default)
WH_RATIO_CLIP = 16 / 1000
# ``max_per_label`` of an NMS that keeps every box
ALL = 1 << 30


class ExportError(ValueError):
    """The detector has a part the exporter cannot express."""


def check_exportable(detector: nn.Module) -> None:
    """Raise :class:`ExportError` naming the first part of ``detector``
    the graph cannot hold."""
    for name, module in detector.named_modules():
        why = UNSUPPORTED.get(type(module).__name__)
        if why:
            raise ExportError(f'{name} ({type(module).__name__}): {why}; '
                              'this config cannot be exported')
    needs = [
        ('rpn_head', RPNHead, 'an RPN head (mmdet RPNHead)'),
        ('roi_head', StandardRoIHead, "mmdet's StandardRoIHead"),
    ]
    for attr, cls, what in needs:
        module = getattr(detector, attr, None)
        if not isinstance(module, cls):
            raise ExportError(f'{attr} ({type(module).__name__}): the '
                              f'exporter takes {what}')
    if type(detector.roi_head).__name__ != 'StandardRoIHead':
        raise ExportError(
            f'roi_head ({type(detector.roi_head).__name__}): the exporter '
            "takes mmdet's StandardRoIHead (boxes in mmdet's convention)")
    for name in ('bbox_roi_extractor', 'mask_roi_extractor'):
        extractor = getattr(detector.roi_head, name, None)
        if extractor is None:
            continue
        if not isinstance(extractor, (AllLevelRoIExtractor,
                                      SingleRoIExtractor)) or type(
                                          extractor.roi_layers[0]).__name__ \
                != 'RoIAlign' or extractor.roi_layers[0].sampling_ratio <= 0:
            raise ExportError(
                f'roi_head.{name} ({type(extractor).__name__}): the exporter '
                'takes RoIAlign with a fixed sampling_ratio > 0')
    for coder, where in ((detector.rpn_head.bbox_coder, 'rpn_head'),
                         (detector.roi_head.bbox_head.bbox_coder,
                          'roi_head.bbox_head')):
        if type(coder) is not DeltaXYWHBBoxCoder or coder.add_ctr_clamp:
            raise ExportError(
                f'{where}.bbox_coder ({type(coder).__name__}): the exporter '
                'takes DeltaXYWHBBoxCoder')
    if detector.roi_head.with_shared_head:
        raise ExportError('roi_head.shared_head: the exporter takes RoI '
                          'heads without a shared head')
    for where, cfg in (('rpn', detector.rpn_head.test_cfg),
                       ('rcnn', detector.roi_head.test_cfg)):
        nms = cfg.get('nms', {}).get('type', 'nms')
        if nms != 'nms':
            raise ExportError(f"model.test_cfg.{where}.nms.type='{nms}': the "
                              "exporter takes 'nms' (ONNX NonMaxSuppression)")
    if detector.roi_head.bbox_head.custom_cls_channels:
        raise ExportError('roi_head.bbox_head: custom classification '
                          'activations are not exported')


def decode(priors: Tensor, deltas: Tensor, coder: DeltaXYWHBBoxCoder,
           height: Tensor, width: Tensor) -> Tensor:
    """mmdet's ``delta2bbox`` (no centre clamp), branch-free: ``deltas``
    ``(n, 4k)`` applied to ``priors`` ``(n, 4)``, clipped to the image."""
    n = priors.shape[0]
    deltas = deltas.reshape(n, -1, 4)
    deltas = deltas * deltas.new_tensor(coder.stds) + deltas.new_tensor(
        coder.means)
    pxy = ((priors[:, :2] + priors[:, 2:]) * 0.5)[:, None]
    pwh = (priors[:, 2:] - priors[:, :2])[:, None]
    max_ratio = abs(math.log(WH_RATIO_CLIP))
    gxy = pxy + pwh * deltas[..., :2]
    gwh = pwh * deltas[..., 2:].clamp(min=-max_ratio, max=max_ratio).exp()
    boxes = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=-1)
    if coder.clip_border:
        limit = torch.stack([width, height, width, height]).to(boxes.dtype)
        boxes = torch.minimum(boxes.clamp(min=0), limit)
    return boxes.reshape(n, -1)


def roi_pool(extractor: nn.Module, feats: Tuple[Tensor],
             rois: Tensor) -> Tensor:
    """What the RoI extractor gives for ``rois`` ``(n, 5)``, pooled by
    RoIAlign ops: every level (``AllLevelRoIExtractor``, ``(n, L, C, S,
    S)``), or each RoI's own level (``SingleRoIExtractor``, ``(n, C, S,
    S)``: every level pooled, the assigned one taken)."""
    layers = extractor.roi_layers
    pooled = torch.stack([
        roi_align(f, rois, layer.output_size[0], layer.spatial_scale,
                  layer.sampling_ratio, layer.aligned)
        for f, layer in zip(feats, layers)
    ],
                         dim=1)
    if isinstance(extractor, AllLevelRoIExtractor):
        return pooled
    levels = extractor.map_roi_levels(rois, len(layers))
    return pooled[torch.arange(rois.shape[0]), levels]


class FrozenBatchNorm(nn.Module):
    """An eval-mode batch norm as the affine map it computes (``x * scale +
    shift``, per channel of dim 1): torch's ``batch_norm`` cannot be traced
    on a data-dependent number of RoIs."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm) -> None:
        super().__init__()
        scale = (bn.running_var + bn.eps).rsqrt()
        if bn.affine:
            scale = scale * bn.weight
        shift = -bn.running_mean * scale
        if bn.affine:
            shift = shift + bn.bias
        self.register_buffer('scale', scale.detach().clone())
        self.register_buffer('shift', shift.detach().clone())

    def forward(self, x: Tensor) -> Tensor:
        shape = (1, -1) + (1, ) * (x.dim() - 2)
        return x * self.scale.view(shape) + self.shift.view(shape)


def freeze_batch_norms(module: nn.Module) -> None:
    """Replace, in place, each batch norm under ``module`` by its
    :class:`FrozenBatchNorm`."""
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, FrozenBatchNorm(child))
        else:
            freeze_batch_norms(child)


class ExportableDetector(nn.Module):
    """``detector``'s ``predict(..., rescale=False)`` on one padded image
    as tensor ops (see the module docstring)."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        check_exportable(detector)
        self.detector = copy.deepcopy(detector).eval()
        freeze_batch_norms(self.detector.roi_head)
        self.rpn_cfg = ConfigDict(detector.rpn_head.test_cfg)
        self.rcnn_cfg = ConfigDict(detector.roi_head.test_cfg)

    def rpn(self, feats: Tuple[Tensor], height: Tensor,
            width: Tensor) -> Tensor:
        """Proposals ``(p, 4)``, as mmdet's ``RPNHead.predict``: per level
        the top ``nms_pre`` scores, decoded, boxes of size > ``min_bbox_size``
        kept, NMS within each level, the best ``max_per_img``."""
        head, cfg = self.detector.rpn_head, self.rpn_cfg
        cls_scores, bbox_preds = head(feats)
        priors = head.prior_generator.grid_priors(
            [f.shape[-2:] for f in feats], device=feats[0].device)
        scores, boxes, levels = [], [], []
        for lvl, (cls, reg,
                  anchors) in enumerate(zip(cls_scores, bbox_preds, priors)):
            s = cls[0].permute(1, 2, 0).reshape(-1)
            s = s.sigmoid() if head.use_sigmoid_cls else \
                s.reshape(-1, 2).softmax(-1)[:, 0]
            d = reg[0].permute(1, 2, 0).reshape(-1, 4)
            k = torch.sym_min(cfg.nms_pre, s.shape[0]) \
                if cfg.get('nms_pre', -1) > 0 else s.shape[0]
            s, idx = s.topk(k)
            scores.append(s)
            boxes.append(
                decode(
                    anchors.reshape(-1, 4)[idx], d[idx], head.bbox_coder,
                    height, width))
            levels.append(torch.full_like(idx, lvl))
        scores, boxes, levels = (torch.cat(x) for x in (scores, boxes, levels))
        if cfg.get('min_bbox_size', -1) >= 0:
            wh = boxes[:, 2:] - boxes[:, :2]
            valid = (wh > cfg.min_bbox_size).all(1)
            scores, boxes, levels = scores[valid], boxes[valid], levels[valid]
        keep = classwise_nms(boxes, scores, levels, len(feats),
                             cfg.nms.iou_threshold, cfg.max_per_img)
        keep = keep[:torch.sym_min(cfg.max_per_img, keep.shape[0])]
        return boxes[keep]

    def detect(self, feats: Tuple[Tensor], proposals: Tensor, height: Tensor,
               width: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """mmdet's ``BBoxHead.predict_by_feat`` with ``multiclass_nms``:
        boxes ``(N, 4)``, scores, labels."""
        roi_head, cfg = self.detector.roi_head, self.rcnn_cfg
        head = roi_head.bbox_head
        rois = torch.cat(
            [proposals.new_zeros(proposals.shape[0], 1), proposals], 1)
        extractor = roi_head.bbox_roi_extractor
        cls_score, bbox_pred = head(
            roi_pool(extractor, feats[:extractor.num_inputs], rois))
        scores = cls_score.softmax(-1)[:, :-1]
        num_classes = scores.shape[1]
        boxes = decode(proposals, bbox_pred, head.bbox_coder, height, width)
        boxes = boxes.reshape(proposals.shape[0], -1,
                              4).expand(-1, num_classes, 4)
        idx, labels = torch.nonzero(scores > cfg.score_thr, as_tuple=True)
        boxes, scores = boxes[idx, labels], scores[idx, labels]
        keep = classwise_nms(boxes, scores, labels, num_classes,
                             cfg.nms.iou_threshold,
                             cfg.max_per_img if cfg.max_per_img > 0 else ALL)
        if cfg.max_per_img > 0:
            keep = keep[:torch.sym_min(cfg.max_per_img, keep.shape[0])]
        return boxes[keep], scores[keep], labels[keep]

    def segment(self, feats: Tuple[Tensor], boxes: Tensor,
                labels: Tensor) -> Tensor:
        """The mask head's probabilities ``(N, M, M)`` of each detection's
        class."""
        roi_head = self.detector.roi_head
        rois = torch.cat([boxes.new_zeros(boxes.shape[0], 1), boxes], 1)
        extractor = roi_head.mask_roi_extractor
        logits = roi_head.mask_head(
            roi_pool(extractor, feats[:extractor.num_inputs], rois))
        if logits.shape[1] > 1:  # class-specific masks
            logits = logits.gather(
                1,
                labels.reshape(-1, 1, 1, 1).expand(-1, 1, logits.shape[2],
                                                   logits.shape[3]))
        return logits[:, 0].sigmoid()

    def forward(self, input: Tensor) -> List[Tensor]:
        height = torch.tensor(input.shape[2], dtype=torch.float32)
        width = torch.tensor(input.shape[3], dtype=torch.float32)
        feats = self.detector.extract_feat(input)
        proposals = self.rpn(feats, height, width)
        boxes, scores, labels = self.detect(feats, proposals, height, width)
        outputs = [boxes, scores, labels]
        if self.detector.with_mask:
            outputs.append(self.segment(feats, boxes, labels))
        return outputs


def predict_preprocessed(model: nn.Module, input: np.ndarray) -> InstanceData:
    """The PyTorch detector's ``predict(..., rescale=False)`` on an input its
    data preprocessor already made, ``(1, 3, H, W)``, in the memory format
    that preprocessor gives: what the exported graph computes from the same
    input (boxes clipped to it, masks pasted at its size)."""
    shape = input.shape[2:]
    sample = DetDataSample(
        metainfo=dict(
            img_shape=shape,
            ori_shape=shape,
            pad_shape=shape,
            batch_input_shape=shape,
            scale_factor=(1., 1.)))
    layout = MEMORY_FORMATS[getattr(model.data_preprocessor, 'memory_format',
                                    'contiguous')]
    with torch.no_grad():
        return model.predict(
            torch.from_numpy(input).contiguous(memory_format=layout), [sample],
            rescale=False)[0].pred_instances
