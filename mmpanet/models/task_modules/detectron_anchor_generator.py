# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Optional, Tuple, Union

import torch
from mmdet.models.task_modules import AnchorGenerator
from mmdet.registry import TASK_UTILS
from torch import Tensor


@TASK_UTILS.register_module()
class DetectronAnchorGenerator(AnchorGenerator):
    """The anchors of Detectron's ``generate_anchors`` (the PANet authors'
    code, ``lib/modeling/generate_anchors.py``).

    For a level of stride ``s`` (the base size), the reference window is
    ``(0, 0, s - 1, s - 1)``, centred at ``(s - 1) / 2``. For each ratio
    ``r`` (height / width) its size is first rounded, ``w_r = round(sqrt(s*s
    / r))``, ``h_r = round(w_r * r)``, then scaled, ``w = w_r * scale``,
    and the anchor is ``ctr -/+ (w - 1) / 2`` (the +1 pixel convention),
    corners NOT rounded. Ratios vary slowest, as ``scale_major=True``.

    mmdet's ``LegacyAnchorGenerator`` differs: it scales the unrounded
    ``s * sqrt(1 / r)`` and rounds the corners, which moves some anchors by
    up to a pixel (e.g. stride 4, ratio 0.5, scale 8: ``(-22, -10, 25,
    13)`` here, ``(-21, -9, 24, 12)`` there).

    Args: as :class:`mmdet.models.task_modules.AnchorGenerator`; the
    authors' FPN RPN is ``strides=[4, 8, 16, 32, 64], ratios=[0.5, 1.0,
    2.0], scales=[8]`` (anchor sizes 32 to 512, one per level).
    """

    def gen_single_level_base_anchors(
            self,
            base_size: Union[int, float],
            scales: Tensor,
            ratios: Tensor,
            center: Optional[Tuple[float]] = None) -> Tensor:
        """Base anchors ``(num_ratios * num_scales, 4)`` of one level."""
        if center is None:
            x_center = y_center = 0.5 * (base_size - 1)
        else:
            x_center, y_center = center
        ratios = ratios.double()
        scales = scales.double()
        w_r = torch.round(torch.sqrt(base_size * base_size / ratios))
        h_r = torch.round(w_r * ratios)
        if self.scale_major:
            ws = (w_r[:, None] * scales[None, :]).reshape(-1)
            hs = (h_r[:, None] * scales[None, :]).reshape(-1)
        else:
            ws = (scales[:, None] * w_r[None, :]).reshape(-1)
            hs = (scales[:, None] * h_r[None, :]).reshape(-1)
        return torch.stack([
            x_center - 0.5 * (ws - 1), y_center - 0.5 *
            (hs - 1), x_center + 0.5 * (ws - 1), y_center + 0.5 * (hs - 1)
        ],
                           dim=-1).float()
