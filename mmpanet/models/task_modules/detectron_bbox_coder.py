# Copyright (c) mmpanet contributors. All rights reserved.
import math
from typing import Optional, Sequence, Union

import torch
from mmdet.models.task_modules.coders.base_bbox_coder import BaseBBoxCoder
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor


@TASK_UTILS.register_module()
class DetectronDeltaXYWHBBoxCoder(BaseBBoxCoder):
    """Detectron's box transform (the PANet authors' code,
    ``bbox_transform`` / ``bbox_transform_inv`` in ``lib/utils/boxes.py``).

    With the +1 pixel convention, ``w = x2 - x1 + 1`` and ``cx = x1 + w /
    2``; decoding gives ``cx' = cx + w * dx / wx``, ``w' = w * exp(min(dw /
    ww, clip))`` and ``x1' = cx' - w' / 2``, ``x2' = cx' + w' / 2 - 1``,
    then clips to ``[0, W - 1] x [0, H - 1]`` of ``max_shape``.

    mmdet's ``LegacyDeltaXYWHBBoxCoder`` also uses ``w = x2 - x1 + 1`` but
    puts the centre at ``(x1 + x2) / 2`` and returns ``x1' = cx' - w' / 2 +
    1/2``, ``x2' = cx' + w' / 2 - 1/2`` (relative to this: ``x1`` 0.5 px
    lower and ``x2`` 0.5 px higher), and it clamps ``dw``/``dh`` from below
    too; this one clamps them from above only, as Detectron does.

    Args:
        weights (Sequence[float]): ``(wx, wy, ww, wh)``: deltas are divided
            by them when decoding and multiplied when encoding (Detectron's
            ``BBOX_REG_WEIGHTS``; (10, 10, 5, 5) for the RoI head, 1s for
            the RPN). Defaults to (1, 1, 1, 1).
        bbox_xform_clip (float): Upper bound of ``dw`` and ``dh`` after
            dividing by the weights. Defaults to ``log(1000 / 16)``.
    """

    def __init__(self,
                 weights: Sequence[float] = (1., 1., 1., 1.),
                 bbox_xform_clip: float = math.log(1000. / 16),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if len(weights) != 4:
            raise ValueError(f'bbox_coder.weights must have 4 values, got '
                             f'{weights!r}')
        self.weights = tuple(float(w) for w in weights)
        self.bbox_xform_clip = bbox_xform_clip

    def encode(self, bboxes: Union[Tensor, object],
               gt_bboxes: Union[Tensor, object]) -> Tensor:
        """Deltas ``(N, 4)`` that turn ``bboxes`` into ``gt_bboxes``."""
        bboxes = get_box_tensor(bboxes).float()
        gt_bboxes = get_box_tensor(gt_bboxes).float()
        ex_w = bboxes[:, 2] - bboxes[:, 0] + 1.0
        ex_h = bboxes[:, 3] - bboxes[:, 1] + 1.0
        ex_cx = bboxes[:, 0] + 0.5 * ex_w
        ex_cy = bboxes[:, 1] + 0.5 * ex_h
        gt_w = gt_bboxes[:, 2] - gt_bboxes[:, 0] + 1.0
        gt_h = gt_bboxes[:, 3] - gt_bboxes[:, 1] + 1.0
        gt_cx = gt_bboxes[:, 0] + 0.5 * gt_w
        gt_cy = gt_bboxes[:, 1] + 0.5 * gt_h
        wx, wy, ww, wh = self.weights
        return torch.stack([
            wx * (gt_cx - ex_cx) / ex_w, wy * (gt_cy - ex_cy) / ex_h,
            ww * torch.log(gt_w / ex_w), wh * torch.log(gt_h / ex_h)
        ],
                           dim=1)

    def decode(self,
               bboxes: Union[Tensor, object],
               pred_bboxes: Tensor,
               max_shape: Optional[Sequence[int]] = None,
               **kwargs) -> Tensor:
        """Apply deltas ``(N, 4k)`` to ``bboxes`` ``(N, 4)``; clip to
        ``max_shape`` (H, W)."""
        bboxes = get_box_tensor(bboxes).to(pred_bboxes.dtype)
        if bboxes.numel() == 0:
            return pred_bboxes.new_zeros(pred_bboxes.shape)
        widths = (bboxes[:, 2] - bboxes[:, 0] + 1.0)[:, None]
        heights = (bboxes[:, 3] - bboxes[:, 1] + 1.0)[:, None]
        ctr_x = bboxes[:, :1] + 0.5 * widths
        ctr_y = bboxes[:, 1:2] + 0.5 * heights
        wx, wy, ww, wh = self.weights
        dx = pred_bboxes[:, 0::4] / wx
        dy = pred_bboxes[:, 1::4] / wy
        dw = (pred_bboxes[:, 2::4] / ww).clamp(max=self.bbox_xform_clip)
        dh = (pred_bboxes[:, 3::4] / wh).clamp(max=self.bbox_xform_clip)
        pred_ctr_x = dx * widths + ctr_x
        pred_ctr_y = dy * heights + ctr_y
        pred_w = torch.exp(dw) * widths
        pred_h = torch.exp(dh) * heights
        out = torch.stack([
            pred_ctr_x - 0.5 * pred_w, pred_ctr_y - 0.5 * pred_h,
            pred_ctr_x + 0.5 * pred_w - 1, pred_ctr_y + 0.5 * pred_h - 1
        ],
                          dim=-1)  # (N, k, 4)
        if max_shape is not None:
            h, w = max_shape[:2]
            limit = out.new_tensor([w - 1, h - 1, w - 1, h - 1])
            out = torch.minimum(out, limit).clamp(min=0)
        return out.reshape(pred_bboxes.shape)
