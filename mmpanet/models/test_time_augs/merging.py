# Copyright (c) mmpanet contributors. All rights reserved.
"""How test-time views are merged: Detectron's box voting and soft-mask
heuristics (the PANet authors' test code, ``lib/core/test.py`` and
``lib/utils/boxes.py``), and mask voting over the views' pasted masks.

Boxes are mmdet's ``(x1, y1, x2, y2)``; IoU is mmdet's (Detectron adds one
pixel to widths and heights, as its boxes are inclusive).
"""
from typing import Sequence

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmdet.structures.mask import mask2bbox
from mmengine.structures import InstanceData
from torch import Tensor

# Detectron's TEST.BBOX_VOTE.SCORING_METHOD
SCORING_METHODS = ('ID', 'AVG', 'IOU_AVG', 'GENERALIZED_AVG', 'QUASI_SUM',
                   'TEMP_AVG')
# Detectron's TEST.MASK_AUG.HEUR
MASK_HEURISTICS = ('SOFT_AVG', 'SOFT_MAX', 'LOGIT_AVG')


def box_voting(boxes: Tensor,
               scores: Tensor,
               all_boxes: Tensor,
               all_scores: Tensor,
               iou_thr: float,
               scoring: str = 'ID',
               beta: float = 1.0):
    """Detectron's ``box_voting`` for boxes of one class.

    Each kept box ``(K, 4)`` becomes the score-weighted mean of the boxes of
    ``all_boxes`` ``(N, 4)`` that overlap it with IoU >= ``iou_thr`` (itself
    among them), and its score is recomputed over those voters:

    - ``'ID'``: unchanged;
    - ``'AVG'``: their mean score;
    - ``'IOU_AVG'``: their scores averaged with IoU weights;
    - ``'GENERALIZED_AVG'``: ``mean(s ** beta) ** (1 / beta)``;
    - ``'QUASI_SUM'``: ``sum(s) / n ** beta``;
    - ``'TEMP_AVG'``: the mean of ``s`` and ``1 - s`` softened by the
      temperature ``beta`` (the first component).

    Returns:
        tuple[Tensor, Tensor]: voted boxes ``(K, 4)`` and scores ``(K,)``.
    """
    if len(boxes) == 0:
        return boxes, scores
    ious = bbox_overlaps(boxes, all_boxes)
    all_scores = all_scores.to(all_boxes.dtype)
    voters = (ious >= iou_thr).to(all_boxes.dtype)
    weights = voters * all_scores[None]
    total = weights.sum(1, keepdim=True)
    voted = torch.where(total > 0,
                        weights @ all_boxes / total.clamp(min=1e-12), boxes)
    count = voters.sum(1).clamp(min=1)
    if scoring == 'ID':
        new_scores = scores
    elif scoring == 'AVG':
        new_scores = voters @ all_scores / count
    elif scoring == 'IOU_AVG':
        iou_w = voters * ious
        new_scores = iou_w @ all_scores / iou_w.sum(1).clamp(min=1e-12)
    elif scoring == 'GENERALIZED_AVG':
        new_scores = (voters @ all_scores**beta / count)**(1.0 / beta)
    elif scoring == 'QUASI_SUM':
        new_scores = voters @ all_scores / count**beta
    elif scoring == 'TEMP_AVG':
        p = torch.stack([all_scores, 1 - all_scores])
        x = torch.exp(torch.log(p / p.amax(0)) / beta)
        new_scores = voters @ (x[0] / x.sum(0)) / count
    else:
        raise ValueError(f'scoring must be one of {SCORING_METHODS}, got '
                         f'{scoring!r}')
    return voted, new_scores


def merge_soft_masks(logits: Sequence[Tensor], heuristic: str) -> Tensor:
    """Detectron's ``MASK_AUG.HEUR`` over the views' mask logits (each
    ``(R, M, M)``, the same boxes): probabilities ``(R, M, M)``.

    ``'SOFT_AVG'``: the mean probability; ``'SOFT_MAX'``: the largest;
    ``'LOGIT_AVG'``: the sigmoid of the mean logit.
    """
    if heuristic == 'SOFT_AVG':
        return torch.stack([x.sigmoid() for x in logits]).mean(0)
    if heuristic == 'SOFT_MAX':
        return torch.stack([x.sigmoid() for x in logits]).amax(0)
    if heuristic == 'LOGIT_AVG':
        return torch.stack(list(logits)).mean(0).sigmoid()
    raise ValueError(f'heuristic must be one of {MASK_HEURISTICS}, got '
                     f'{heuristic!r}')


def mask_voting(boxes: Tensor, labels: Tensor, candidates: InstanceData,
                num_augs: int, iou_thr: float) -> Tensor:
    """Mask probabilities ``(K, H, W)`` of the kept boxes ``(K, 4)``: for each,
    the mean over the augmentations of the probabilities of the instance of
    that augmentation (``candidates.aug``) with its label that overlaps it
    most, if with IoU >= ``iou_thr``. ``candidates.masks``: ``(N, H, W)``
    probabilities in the original image (float, or uint8 x 255 as mmdet's
    soft masks: kept so until voted, a quarter of the memory)."""
    height, width = candidates.masks.shape[-2:]
    out = boxes.new_zeros((len(boxes), height, width))
    if len(boxes) == 0:
        return out
    ious = bbox_overlaps(boxes, candidates.bboxes)
    ious[labels[:, None] != candidates.labels[None]] = -1
    count = boxes.new_zeros(len(boxes))
    for aug in range(num_augs):
        in_aug = torch.nonzero(candidates.aug == aug).flatten()
        if len(in_aug) == 0:
            continue
        best_iou, best = ious[:, in_aug].max(1)
        matched = torch.nonzero(best_iou >= iou_thr).flatten()
        out.index_add_(0, matched,
                       probabilities(candidates.masks[in_aug[best[matched]]]))
        count[matched] += 1
    return out / count.clamp(min=1)[:, None, None]


def probabilities(masks: Tensor) -> Tensor:
    """Float mask probabilities from mmdet's soft masks (uint8, x 255) or
    from float ones."""
    return masks.float() / 255 if masks.dtype == torch.uint8 else \
        masks.float()


def tight_boxes(masks: Tensor, boxes: Tensor) -> Tensor:
    """``(K, 4)`` bounds ``[x1, y1, x2 + 1, y2 + 1]`` of each mask's pixels
    (mmdet's ``mask2bbox``); the box from ``boxes`` where a mask is
    empty."""
    empty = ~masks.flatten(1).any(1)
    return torch.where(empty[:, None], boxes, mask2bbox(masks).to(boxes))
