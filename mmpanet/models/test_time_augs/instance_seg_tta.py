# Copyright (c) mmpanet contributors. All rights reserved.
"""Test-time augmentation for instance segmentation: the "testing tricks" of
the paper's Table 6 (multi-scale testing, horizontal flip, box voting, mask
averaging; boxes tightened around the masks), merged as the authors' test
code (Detectron's ``im_detect_all`` with ``BBOX_AUG`` and ``MASK_AUG``)
merges them, or by mask voting over the views' pasted masks."""
import copy
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.ops import batched_nms, nms
from mmdet.models.test_time_augs import DetTTAModel
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi, bbox_flip, scale_boxes
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor, nn

from ..utils import check_choice
from .detector_ensemble import gives_mask_probabilities, soft_mask_config
from .merging import (MASK_HEURISTICS, SCORING_METHODS, box_voting,
                      mask_voting, merge_soft_masks, probabilities,
                      tight_boxes)

# tta_cfg keys and defaults of each merge. 'detectron': the authors' test
# settings (Detectron's TEST.SCORE_THRESH, TEST.NMS of their FPN configs,
# TEST.DETECTIONS_PER_IM, BBOX_VOTE off (VOTE_TH 0.8, SCORING_METHOD 'ID'
# when on), MASK_AUG.HEUR).
MERGE_DEFAULTS = dict(
    detectron=dict(
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100,
        box_voting=None,
        mask_heuristic='SOFT_AVG',
        mask_thr_binary=0.5,
        tighten_boxes=False),
    mask_voting=dict(
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100,
        mask_thr_binary=0.5,
        box_voting_iou_thr=None,
        mask_voting=True,
        tighten_boxes=False))
BOX_VOTING_DEFAULTS = dict(iou_thr=0.8, scoring='ID', beta=1.0)
# flip direction -> the mask dims it reverses
FLIP_DIMS = {'horizontal': (-1, ), 'vertical': (-2, ), 'diagonal': (-2, -1)}


def to_view(boxes: Tensor, meta: dict) -> Tensor:
    """Boxes of the original image in the view of ``meta`` (flipped as the
    view, then scaled): the inverse of :func:`to_original`."""
    if meta.get('flip', False):
        boxes = bbox_flip(boxes, meta['ori_shape'], meta['flip_direction'])
    return scale_boxes(boxes, meta['scale_factor'])


def to_original(boxes: Tensor, meta: dict) -> Tensor:
    """Boxes of the view of ``meta`` in the original image: scaled back,
    then unflipped (as mmdet's ``DetTTAModel``)."""
    boxes = scale_boxes(boxes, [1 / s for s in meta['scale_factor']])
    if meta.get('flip', False):
        boxes = bbox_flip(boxes, meta['ori_shape'], meta['flip_direction'])
    return boxes


def flip_masks(masks: Tensor, meta: dict) -> Tensor:
    """``(R, M, M)`` masks of a flipped view's boxes in the original
    orientation."""
    if meta.get('flip', False):
        return masks.flip(FLIP_DIMS[meta['flip_direction']])
    return masks


def _check_cfg(tta_cfg: Optional[dict]) -> ConfigDict:
    """``tta_cfg`` with its merge's defaults filled in; unknown keys, bad
    values and options that would cancel each other raise ValueError
    naming the keys."""
    tta_cfg = dict(tta_cfg or {})
    merge = tta_cfg.pop('merge', 'detectron')
    check_choice('tta_cfg.merge', merge, MERGE_DEFAULTS)
    defaults = MERGE_DEFAULTS[merge]
    unknown = sorted(set(tta_cfg) - set(defaults))
    if unknown:
        raise ValueError(f"tta_cfg: {unknown} not options of merge='{merge}';"
                         f' its options: {sorted(defaults)}')
    cfg = ConfigDict(copy.deepcopy(defaults), **tta_cfg, merge=merge)
    if not (isinstance(cfg.max_per_img, int) and cfg.max_per_img > 0):
        raise ValueError('tta_cfg.max_per_img must be a positive int, '
                         f'got {cfg.max_per_img!r}')
    if not 0 <= cfg.mask_thr_binary <= 1:
        raise ValueError('tta_cfg.mask_thr_binary must be in [0, 1], '
                         f'got {cfg.mask_thr_binary!r}')
    if merge == 'detectron':
        check_choice('tta_cfg.mask_heuristic', cfg.mask_heuristic,
                     MASK_HEURISTICS)
        if cfg.box_voting is not None:
            unknown = sorted(set(cfg.box_voting) - set(BOX_VOTING_DEFAULTS))
            if unknown:
                raise ValueError(f'tta_cfg.box_voting: unknown keys '
                                 f'{unknown}; allowed: '
                                 f'{sorted(BOX_VOTING_DEFAULTS)}')
            cfg.box_voting = ConfigDict(BOX_VOTING_DEFAULTS, **cfg.box_voting)
            check_choice('tta_cfg.box_voting.scoring', cfg.box_voting.scoring,
                         SCORING_METHODS)
            if not 0 < cfg.box_voting.iou_thr <= 1:
                raise ValueError('tta_cfg.box_voting.iou_thr must be in (0, '
                                 f'1], got {cfg.box_voting.iou_thr!r}')
        return cfg
    thr = cfg.box_voting_iou_thr
    if thr is not None and not 0 < thr <= 1:
        raise ValueError('tta_cfg.box_voting_iou_thr must be None (no '
                         f'box voting) or in (0, 1], got {thr!r}')
    if thr is not None and cfg.tighten_boxes:
        raise ValueError(
            "tta_cfg.tighten_boxes=True would replace the voted boxes of "
            "tta_cfg.box_voting_iou_thr (merge='mask_voting' votes after "
            "the masks are made): use merge='detectron', whose masks are "
            'computed on the voted boxes, or drop one of the two')
    return cfg


@MODELS.register_module()
class InstanceSegTTAModel(DetTTAModel):
    """Merge the augmented views of each image (any scales and flips, from
    ``TestTimeAug`` in the pipeline) into one prediction.

    ``tta_cfg.merge='detectron'`` (default), as the PANet authors' test code
    (Detectron's ``im_detect_all``) merges:

    1. every view's raw scored boxes (all proposals, every class, before any
       NMS) are mapped back to the original image and pooled;
    2. per class: score > ``score_thr``, one NMS (``nms``), and with
       ``box_voting`` each kept box voted with all pooled boxes of its class
       (:func:`box_voting`: ``iou_thr``, ``scoring``, ``beta``); then the
       ``max_per_img`` best over all classes;
    3. the mask head of every view runs on these final boxes (mapped into
       the view: scaled, flipped), the views' soft masks of each box are
       merged at the head's resolution (``mask_heuristic``: 'SOFT_AVG',
       'SOFT_MAX', 'LOGIT_AVG') and pasted once into the final box,
       binarized at ``mask_thr_binary``;
    4. with ``tighten_boxes``, boxes become the bounds of their masks, last.

    ``tta_cfg.merge='mask_voting'`` runs each view's whole test step, pools
    their detections, runs class-wise NMS (``nms``, ``max_per_img``) and
    gives each kept instance the mean of the pasted masks of its
    best-overlapping instance in every view (``mask_voting``), with
    optional box voting (``box_voting_iou_thr``) after the masks and
    ``tighten_boxes``; the detector must give mask probabilities.

    Args:
        module (dict | nn.Module): the detector (a two-stage detector with
            mmdet's ``StandardRoIHead`` interface), or a
            :class:`DetectorEnsemble` whose members are all merged as more
            views. For mask voting, a detector config gets
            ``test_cfg.rcnn.mask_thr_binary=-1`` set.
        tta_cfg (dict): ``merge`` and that merge's keys
            (:data:`MERGE_DEFAULTS` fills the rest).
    """

    def __init__(self, module, tta_cfg: Optional[dict] = None, **kwargs):
        cfg = _check_cfg(tta_cfg)
        if cfg['merge'] == 'mask_voting' and isinstance(module, dict):
            module = soft_mask_config(module)
        super().__init__(module=module, tta_cfg=cfg, **kwargs)
        self.with_mask = bool(self.module.with_mask)
        if cfg['merge'] == 'mask_voting' and self.with_mask and \
                not gives_mask_probabilities(self.module):
            raise ValueError(
                "merge='mask_voting' merges mask probabilities: build the "
                'detector with test_cfg.rcnn.mask_thr_binary=-1 (a module '
                'config passed as a dict gets it set)')
        if cfg['merge'] == 'detectron':
            for detector in self.detectors:
                if type(detector.roi_head).__name__ == 'DetectronRoIHead':
                    raise ValueError(
                        "merge='detectron' needs mmdet's box convention; "
                        'DetectronRoIHead (the authors\' +1 pixel boxes) is '
                        "tested with merge='mask_voting'")

    @property
    def detectors(self) -> List[nn.Module]:
        """The detector, or each member of an ensemble."""
        return list(getattr(self.module, 'members', [self.module]))

    # ------------------------------------------------------- detectron merge
    def test_step(self, data) -> List[DetDataSample]:
        if self.tta_cfg['merge'] == 'mask_voting':
            return super().test_step(data)
        num_views = len(data['inputs'])
        views = [{
            key: value[i]
            for key, value in data.items()
        } for i in range(num_views)]
        batch = len(views[0]['inputs'])
        pooled = [[] for _ in range(batch)]
        for detector in self.detectors:
            for view in views:
                for i, dets in enumerate(self.view_detections(detector, view)):
                    pooled[i].append(dets)
        results = [self.merge_boxes(InstanceData.cat(dets)) for dets in pooled]
        if self.with_mask:
            logits = [[] for _ in range(batch)]
            for detector in self.detectors:
                for view in views:
                    for i, masks in enumerate(
                            self.view_masks(detector, view, results)):
                        logits[i].append(masks)
            metas = [s.metainfo for s in views[0]['data_samples']]
            for result, masks, meta in zip(results, logits, metas):
                self.paste(result, masks, meta)
        out = []
        for i, result in enumerate(results):
            sample = copy.copy(views[0]['data_samples'][i])
            sample.set_metainfo(dict(flip=False, flip_direction=None))
            sample.pred_instances = result
            out.append(sample)
        return out

    @staticmethod
    def _process(detector: nn.Module, view: dict) -> Tuple[tuple, list]:
        processed = detector.data_preprocessor(copy.deepcopy(view), False)
        return detector.extract_feat(processed['inputs']), \
            processed['data_samples']

    def view_detections(self, detector: nn.Module,
                        view: dict) -> List[InstanceData]:
        """The raw scored boxes of one view, per image: every proposal's
        boxes and scores for every class (``(n, K, 4)``, ``(n, K)``), in the
        original image, before any NMS."""
        feats, samples = self._process(detector, view)
        if detector.with_rpn:
            proposals = detector.rpn_head.predict(
                feats, samples, rescale=False)
        else:
            proposals = [s.proposals for s in samples]
        roi_head = detector.roi_head
        rois = bbox2roi([p.bboxes for p in proposals])
        out = roi_head._bbox_forward(feats, rois)
        counts = [len(p) for p in proposals]
        metas = [s.metainfo for s in samples]
        raw = roi_head.bbox_head.predict_by_feat(
            rois=rois.split(counts),
            cls_scores=out['cls_score'].split(counts),
            bbox_preds=out['bbox_pred'].split(counts),
            batch_img_metas=metas,
            rcnn_test_cfg=None,
            rescale=True)
        dets = []
        num_classes = roi_head.bbox_head.num_classes
        for res, meta in zip(raw, metas):
            boxes = res.bboxes.reshape(len(res.bboxes), -1, 4)
            if boxes.size(1) == 1:  # class-agnostic regression
                boxes = boxes.expand(-1, num_classes, 4)
            if meta.get('flip', False):
                boxes = bbox_flip(boxes, meta['ori_shape'],
                                  meta['flip_direction'])
            dets.append(
                InstanceData(
                    boxes=boxes.float(),
                    scores=res.scores[:, :num_classes].float()))
        return dets

    def merge_boxes(self, dets: InstanceData) -> InstanceData:
        """Detectron's ``box_results_with_nms_and_limit`` on the pooled raw
        boxes of all views."""
        cfg = self.tta_cfg
        if len(dets):
            idx, label = torch.nonzero(
                dets.scores > cfg.score_thr, as_tuple=True)
            boxes, scores = dets.boxes[idx, label], dets.scores[idx, label]
        else:
            boxes = dets.boxes.new_zeros((0, 4))
            scores = dets.scores.new_zeros(0)
            label = scores.long()
        kept_boxes, kept_scores, kept_labels = [], [], []
        nms_cfg = dict(cfg.nms)
        nms_cfg.pop('type', None)
        for c in label.unique().tolist():
            in_c = label == c
            c_boxes, c_scores = boxes[in_c], scores[in_c]
            _, keep = nms(c_boxes, c_scores, **nms_cfg)
            top_boxes, top_scores = c_boxes[keep], c_scores[keep]
            if cfg.box_voting is not None:
                top_boxes, top_scores = box_voting(top_boxes, top_scores,
                                                   c_boxes, c_scores,
                                                   cfg.box_voting.iou_thr,
                                                   cfg.box_voting.scoring,
                                                   cfg.box_voting.beta)
            kept_boxes.append(top_boxes)
            kept_scores.append(top_scores)
            kept_labels.append(label.new_full((len(keep), ), c))
        result = InstanceData(
            bboxes=torch.cat(kept_boxes) if kept_boxes else boxes,
            scores=torch.cat(kept_scores) if kept_scores else scores,
            labels=torch.cat(kept_labels) if kept_labels else label)
        order = result.scores.argsort(descending=True)
        if len(order) > cfg.max_per_img:  # Detectron keeps ties at the limit
            threshold = result.scores[order[cfg.max_per_img - 1]]
            order = order[result.scores[order] >= threshold]
        return result[order]

    def view_masks(self, detector: nn.Module, view: dict,
                   results: Sequence[InstanceData]) -> List[Tensor]:
        """Mask logits ``(R, M, M)`` of each image's final detections
        (``bboxes`` in the original image, ``labels``) in one view: the
        view's mask head run on the boxes mapped into it, each box's own
        class, flipped back."""
        feats, samples = self._process(detector, view)
        metas = [s.metainfo for s in samples]
        rois = bbox2roi([to_view(r.bboxes, m) for r, m in zip(results, metas)])
        logits = detector.roi_head._mask_forward(feats, rois)['mask_preds']
        out = []
        for chunk, meta, result in zip(
                logits.split([len(r) for r in results]), metas, results):
            if chunk.size(1) > 1:  # class-specific masks
                chunk = chunk[torch.arange(len(chunk)), result.labels]
            else:
                chunk = chunk[:, 0]
            out.append(flip_masks(chunk.float(), meta))
        return out

    def paste(self, result: InstanceData, logits: Sequence[Tensor],
              meta: dict) -> None:
        """Merge the views' mask logits of ``result``'s boxes and paste them
        once into the original image; then tighten, if asked."""
        cfg = self.tta_cfg
        head = self.detectors[0].roi_head.mask_head
        probs = merge_soft_masks(logits, cfg.mask_heuristic)
        original = dict(meta, scale_factor=(1.0, 1.0))
        result.masks = head._predict_by_feat_single(
            probs[:, None].expand(-1, head.num_classes, -1, -1),
            result.bboxes.clone(),
            result.labels,
            original,
            ConfigDict(mask_thr_binary=cfg.mask_thr_binary),
            rescale=True,
            activate_map=True)
        if cfg.tighten_boxes:
            result.bboxes = tight_boxes(result.masks, result.bboxes)

    # --------------------------------------------------- mask-voting merge
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
                if cfg.mask_voting else probabilities(kept.masks)
            result.masks = probs >= cfg.mask_thr_binary
        if cfg.box_voting_iou_thr is not None:
            for c in kept.labels.unique():
                top, voters = kept.labels == c, pooled.labels == c
                result.bboxes[top], _ = box_voting(kept.bboxes[top],
                                                   kept.scores[top],
                                                   pooled.bboxes[voters],
                                                   pooled.scores[voters],
                                                   cfg.box_voting_iou_thr)
        if cfg.tighten_boxes and self.with_mask:
            result.bboxes = tight_boxes(result.masks, result.bboxes)
        merged = data_samples[0]
        merged.set_metainfo(dict(flip=False, flip_direction=None))
        merged.pred_instances = result
        return merged


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
