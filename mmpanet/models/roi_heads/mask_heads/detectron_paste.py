# Copyright (c) mmpanet contributors. All rights reserved.
import cv2
import numpy as np
import torch
from torch import Tensor


def paste_masks_detectron(probs: Tensor, boxes: Tensor, img_h: int, img_w: int,
                          threshold: float) -> Tensor:
    """Paste ``M x M`` mask probabilities into the image as Detectron's
    ``segm_results`` does (the PANet authors' code, ``lib/core/test.py``).

    Each mask gets a one-pixel zero border (``(M + 2) x (M + 2)``), its box
    is enlarged by ``(M + 2) / M`` around the centre and truncated to
    integers, the padded mask is resized with ``cv2.resize`` (bilinear) to
    the box's ``(x2 - x1 + 1) x (y2 - y1 + 1)`` pixels, thresholded with
    ``> threshold`` and written into the image, cut at its borders.
    mmdet's ``_do_paste_mask`` samples the mask with ``grid_sample`` over
    the real-valued box instead and thresholds with ``>=``.

    Args:
        probs (Tensor): ``(N, M, M)`` probabilities.
        boxes (Tensor): ``(N, 4)`` boxes in image pixels.
        img_h, img_w (int): Image size.
        threshold (float): Binarization threshold.

    Returns:
        Tensor: ``(N, img_h, img_w)`` bool, on the device of ``probs``.
    """
    n, m = probs.size(0), probs.size(-1)
    out = np.zeros((n, img_h, img_w), dtype=bool)
    masks = probs.detach().float().cpu().numpy()
    b = boxes.detach().float().cpu().numpy()
    # their expand_boxes, in the boxes' float32
    w_half = (b[:, 2] - b[:, 0]) * .5 * ((m + 2.0) / m)
    h_half = (b[:, 3] - b[:, 1]) * .5 * ((m + 2.0) / m)
    x_c = (b[:, 2] + b[:, 0]) * .5
    y_c = (b[:, 3] + b[:, 1]) * .5
    ref = np.stack([x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half],
                   axis=1).astype(np.int32)
    padded = np.zeros((m + 2, m + 2), dtype=np.float32)
    for i in range(n):
        padded[1:-1, 1:-1] = masks[i]
        x1, y1, x2, y2 = ref[i]
        w = max(x2 - x1 + 1, 1)
        h = max(y2 - y1 + 1, 1)
        mask = cv2.resize(padded, (int(w), int(h))) > threshold
        x0, x1c = max(x1, 0), min(x2 + 1, img_w)
        y0, y1c = max(y1, 0), min(y2 + 1, img_h)
        if x1c > x0 and y1c > y0:
            out[i, y0:y1c, x0:x1c] = mask[y0 - y1:y1c - y1, x0 - x1:x1c - x1]
    return torch.from_numpy(out).to(probs.device)
