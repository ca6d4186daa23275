# Copyright (c) mmpanet contributors. All rights reserved.
import cv2
import mmcv
import numpy as np
from mmdet.datasets.transforms import Resize
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class DetectronResize(Resize):
    """Resize as Detectron's ``prep_im_for_blob`` does (the PANet authors'
    code, ``lib/utils/blob.py``): one scale for both axes,

        s = short / min(h, w);  if round(s * max(h, w)) > long: s = long /
        max(h, w)

    and ``cv2.resize(float32 image, fx=s, fy=s, INTER_LINEAR)``.

    mmdet's ``Resize(keep_ratio=True)`` differs in three ways: it resizes the
    uint8 image (so the output is rounded to integers; Detectron resizes
    the float image), it takes ``min(long / max, short / min)`` without the
    rounding test, and it records per-axis factors ``new_w / w``, ``new_h /
    h`` instead of ``s``. Here ``scale_factor`` is ``(s, s)``, the image
    becomes float32, boxes are scaled by ``s`` and masks and segmentation
    maps are resized to the new image size.

    An image more than twice the target size (``s < 0.5``) is first shrunk
    as uint8 (``INTER_AREA``) to twice the target, so no float copy of the
    full image is made; COCO's images are far below that.

    Args:
        scale (tuple[int, int]): ``(long, short)``: Detectron's
            ``MAX_SIZE`` and ``SCALE``, e.g. ``(1400, 1000)``; the order of
            mmdet's ``keep_ratio`` scales, so ``RandomChoiceResize(...,
            resize_type='DetectronResize')`` gives their multi-scale
            training.
        **kwargs: Other arguments of :class:`mmdet.datasets.transforms.
            Resize` (``keep_ratio`` is always True).
    """

    def __init__(self, scale, **kwargs) -> None:
        kwargs['keep_ratio'] = True
        super().__init__(scale=scale, **kwargs)

    def _resize_img(self, results: dict) -> None:
        img = results.get('img', None)
        if img is None:
            return
        long_side, short_side = max(results['scale']), min(results['scale'])
        h, w = img.shape[:2]
        s = float(short_side) / min(h, w)
        if np.round(s * max(h, w)) > long_side:
            s = float(long_side) / max(h, w)
        size = None  # cv2's own: round(w * s) x round(h * s)
        if s < 0.5:  # shrink as uint8 first: no full-size float copy
            size = (max(1, round(w * s)), max(1, round(h * s)))
            img = cv2.resize(
                img, (2 * size[0], 2 * size[1]), interpolation=cv2.INTER_AREA)
        img = cv2.resize(
            img.astype(np.float32, copy=False),
            size,
            None,
            fx=s,
            fy=s,
            interpolation=cv2.INTER_LINEAR)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['scale_factor'] = (s, s)
        results['keep_ratio'] = True

    def _resize_masks(self, results: dict) -> None:
        if results.get('gt_masks', None) is not None:
            results['gt_masks'] = results['gt_masks'].resize(
                results['img_shape'])

    def _resize_seg(self, results: dict) -> None:
        if results.get('gt_seg_map', None) is not None:
            h, w = results['img_shape']
            results['gt_seg_map'] = mmcv.imresize(
                results['gt_seg_map'], (w, h),
                interpolation='nearest',
                backend=self.backend)
