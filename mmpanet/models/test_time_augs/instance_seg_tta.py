# Copyright (c) mmpanet contributors. All rights reserved.
"""Test-time augmentation for instance segmentation with box and mask voting:
the "testing tricks" of the paper's Table 6 (multi-scale testing, horizontal
flip, mask voting, box voting; boxes tightened around the masks)."""
import copy
from typing import List, Optional, Sequence

import torch
from mmcv.ops import batched_nms
from mmdet.models.test_time_augs import DetTTAModel
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox_flip, bbox_overlaps
from mmdet.structures.mask import mask2bbox
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from .detector_ensemble import gives_mask_probabilities, soft_mask_config

TTA_DEFAULTS = dict(
    nms=dict(type='nms', iou_threshold=0.5),
    max_per_img=100,
    mask_thr_binary=0.5,
    box_voting_iou_thr=None,
    mask_voting=True,
    tighten_boxes=False)
# flip direction -> the mask dims it reverses
FLIP_DIMS = {'horizontal': (-1, ), 'vertical': (-2, ), 'diagonal': (-2, -1)}


def box_voting(boxes: Tensor, labels: Tensor, all_boxes: Tensor,
               all_scores: Tensor, all_labels: Tensor,
               iou_thr: float) -> Tensor:
    """Each kept box ``(K, 4)`` replaced by the score-weighted mean of the
    boxes of ``all_boxes`` ``(N, 4)`` with its label that overlap it with IoU
    >= ``iou_thr`` (itself included), as Detectron's ``box_voting`` with its
    default scoring (scores unchanged)."""
    if len(boxes) == 0:
        return boxes
    ious = bbox_overlaps(boxes, all_boxes)
    weights = all_scores[None] * ((ious >= iou_thr) &
                                  (labels[:, None] == all_labels[None]))
    total = weights.sum(1, keepdim=True)
    voted = weights @ all_boxes / total.clamp(min=1e-12)
    return torch.where(total > 0, voted, boxes)


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
                       _probabilities(candidates.masks[in_aug[best[matched]]]))
        count[matched] += 1
    return out / count.clamp(min=1)[:, None, None]


def _probabilities(masks: Tensor) -> Tensor:
    """Float mask probabilities from mmdet's soft masks (uint8, x 255) or
    from float ones."""
    return masks.float() / 255 if masks.dtype == torch.uint8 else \
        masks.float()


def _original_view(pred: InstanceData, meta: dict) -> InstanceData:
    """Predictions of a flipped view flipped back into the original
    image."""
    pred = pred.clone()
    if meta.get('flip', False):
        direction = meta['flip_direction']
        pred.bboxes = bbox_flip(pred.bboxes, meta['ori_shape'], direction)
        if 'masks' in pred:
            pred.masks = pred.masks.flip(FLIP_DIMS[direction])
    return pred


@MODELS.register_module()
class InstanceSegTTAModel(DetTTAModel):
    """Merge the predictions of augmented views of each image (any scales
    and flips, from ``TestTimeAug`` in the pipeline) into one.

    All views' instances are mapped back to the original image and pooled;
    class-wise NMS (``tta_cfg.nms``) keeps at most ``max_per_img``. With
    ``box_voting_iou_thr``, each kept box becomes the score-weighted mean of
    the pooled boxes of its class overlapping it at least that much (box
    voting). With ``mask_voting``, each kept instance's mask is the mean of
    the mask probabilities of its best-overlapping instance (same class,
    IoU >= the NMS threshold) in every view (mask voting), binarized at
    ``mask_thr_binary``; otherwise its own view's probabilities are. With
    ``tighten_boxes``, boxes become the bounds of their masks (as the
    paper's challenge entry submitted them).

    Args:
        module (dict | nn.Module): the detector, or a
            :class:`DetectorEnsemble`. As a detector config, its mask head
            is set to give probabilities (``test_cfg.rcnn.mask_thr_binary
            = -1``); a built detector must already give them.
        tta_cfg (dict): keys of ``TTA_DEFAULTS``, which fills the rest.
    """

    def __init__(self, module, tta_cfg: Optional[dict] = None, **kwargs):
        tta_cfg = dict(tta_cfg or {})
        unknown = sorted(set(tta_cfg) - set(TTA_DEFAULTS))
        if unknown:
            raise ValueError(f'tta_cfg: unknown keys {unknown}; allowed: '
                             f'{sorted(TTA_DEFAULTS)}')
        cfg = ConfigDict(copy.deepcopy(TTA_DEFAULTS), **tta_cfg)
        if not (isinstance(cfg.max_per_img, int) and cfg.max_per_img > 0):
            raise ValueError('tta_cfg.max_per_img must be a positive int, '
                             f'got {cfg.max_per_img!r}')
        if not 0 <= cfg.mask_thr_binary <= 1:
            raise ValueError('tta_cfg.mask_thr_binary must be in [0, 1], '
                             f'got {cfg.mask_thr_binary!r}')
        thr = cfg.box_voting_iou_thr
        if thr is not None and not 0 < thr <= 1:
            raise ValueError('tta_cfg.box_voting_iou_thr must be None (no '
                             f'box voting) or in (0, 1], got {thr!r}')
        if isinstance(module, dict):
            module = soft_mask_config(module)
        super().__init__(module=module, tta_cfg=cfg, **kwargs)
        self.with_mask = bool(self.module.with_mask)
        if self.with_mask and not gives_mask_probabilities(self.module):
            raise ValueError(
                'InstanceSegTTAModel merges mask probabilities: build the '
                'detector with test_cfg.rcnn.mask_thr_binary=-1 (a module '
                'config passed as a dict gets it set)')

    def _merge_single_sample(
            self, data_samples: List[DetDataSample]) -> DetDataSample:
        cfg = self.tta_cfg
        views = [
            _original_view(ds.pred_instances, ds.metainfo)
            for ds in data_samples
        ]
        # an ensemble's views hold each member's instances: every (view,
        # member) is a view of its own for mask voting
        members = getattr(self.module, 'num_members', 1)
        for i, view in enumerate(views):
            member = view.pop('member') if 'member' in view else \
                view.labels.new_zeros(len(view))
            view.aug = i * members + member
        pooled = InstanceData.cat(views)
        if len(pooled):
            _, keep = batched_nms(pooled.bboxes, pooled.scores.float(),
                                  pooled.labels, cfg.nms)
        else:  # no view detected anything (mmcv's nms needs a box)
            keep = pooled.labels.new_zeros(0)
        kept = pooled[keep[:cfg.max_per_img]]
        result = InstanceData(
            bboxes=kept.bboxes, scores=kept.scores, labels=kept.labels)
        if self.with_mask:
            probs = mask_voting(kept.bboxes, kept.labels, pooled,
                                len(views) * members, cfg.nms.iou_threshold) \
                if cfg.mask_voting else _probabilities(kept.masks)
            result.masks = probs >= cfg.mask_thr_binary
        if cfg.box_voting_iou_thr is not None:
            result.bboxes = box_voting(kept.bboxes, kept.labels, pooled.bboxes,
                                       pooled.scores, pooled.labels,
                                       cfg.box_voting_iou_thr)
        if cfg.tighten_boxes and self.with_mask:
            result.bboxes = tight_boxes(result.masks, result.bboxes)
        merged = data_samples[0]
        merged.set_metainfo(dict(flip=False, flip_direction=None))
        merged.pred_instances = result
        return merged


def tight_boxes(masks: Tensor, boxes: Tensor) -> Tensor:
    """``(K, 4)`` bounds ``[x1, y1, x2 + 1, y2 + 1]`` of each mask's pixels
    (mmdet's ``mask2bbox``); the box from ``boxes`` where a mask is
    empty."""
    empty = ~masks.flatten(1).any(1)
    return torch.where(empty[:, None], boxes, mask2bbox(masks).to(boxes))


__all__: Sequence[str] = [
    'InstanceSegTTAModel', 'box_voting', 'mask_voting', 'tight_boxes'
]
