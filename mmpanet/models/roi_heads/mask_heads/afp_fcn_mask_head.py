# Copyright (c) mmpanet contributors. All rights reserved.
import numpy as np
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS
from torch import Tensor

from ...layers import FUSION_OPS, AdaptiveFeatureFusion
from ...utils import check_choice, check_positive_int
from .detectron_paste import paste_masks_detectron

MASK_PASTES = ('grid_sample', 'detectron')


@MODELS.register_module()
class AFPFCNMaskHead(FCNMaskHead):
    """FCN mask head with adaptive feature pooling (PANet Sec. 3.2).

    ``conv1`` is per level (separate weights, one copy per pooled level) and
    its outputs are fused by ``fusion``; ``conv2 .. conv{num_convs}``, the
    upsampling and the logits are mmdet's ``FCNMaskHead``, as are the loss,
    targets and prediction.

    Args:
        num_levels (int): Levels pooled by the RoI extractor (the number of
            its ``featmap_strides``); 1 for a single-level extractor.
            Defaults to 4.
        fusion (str): A key of ``FUSION_OPS``: 'max' (paper) or 'sum'.
        fuse_after (str): 'conv1' (paper) or 'roi_align'.
        grouped_conv (bool): Run the per-level conv1 of all levels as one
            grouped convolution (see :class:`PerLevelLayers`). Defaults to
            True.
        mask_paste (str): How test-time masks are pasted into the image:
            'grid_sample' (mmdet's ``_do_paste_mask``) or 'detectron' (the
            authors' code, see :func:`paste_masks_detectron`). Defaults to
            'grid_sample'.
        **kwargs: Arguments of :class:`FCNMaskHead`.

    Input: ``(R, num_levels, C, H, W)`` (or ``(R, C, H, W)`` when
    ``num_levels == 1``); output: ``(R, num_classes, 2H, 2W)`` logits.
    """

    def __init__(self,
                 num_levels: int = 4,
                 fusion: str = 'max',
                 fuse_after: str = 'conv1',
                 grouped_conv: bool = True,
                 mask_paste: str = 'grid_sample',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        check_choice('mask_head.mask_paste', mask_paste, MASK_PASTES)
        self.mask_paste = mask_paste
        if self.num_convs < 1:
            raise ValueError(f'mask_head.num_convs must be >= 1, got '
                             f'{self.num_convs}')
        check_choice('mask_head.fuse_after', fuse_after,
                     ('conv1', 'roi_align'))
        check_positive_int('mask_head.num_levels', num_levels)
        check_choice('mask_head.fusion', fusion, FUSION_OPS)
        self.num_levels = num_levels
        self.fusion = fusion
        self.fuse_after = fuse_after
        self.convs[0] = AdaptiveFeatureFusion(
            self.convs[0],
            num_levels=num_levels,
            fusion=fusion,
            fuse_first=fuse_after == 'roi_align',
            grouped_conv=grouped_conv)

    def _predict_by_feat_single(self,
                                mask_preds: Tensor,
                                bboxes: Tensor,
                                labels: Tensor,
                                img_meta: dict,
                                rcnn_test_cfg,
                                rescale: bool = False,
                                activate_map: bool = False) -> Tensor:
        """Binary masks ``(N, H, W)``; with ``mask_paste='detectron'``
        pasted as the authors' code does (the boxes are rescaled in place,
        as mmdet's head does)."""
        if self.mask_paste == 'grid_sample':
            return super()._predict_by_feat_single(mask_preds, bboxes, labels,
                                                   img_meta, rcnn_test_cfg,
                                                   rescale, activate_map)
        threshold = rcnn_test_cfg.mask_thr_binary
        if threshold < 0:
            raise ValueError("mask_head.mask_paste='detectron' gives binary "
                             'masks: set test_cfg.rcnn.mask_thr_binary >= 0')
        probs = mask_preds if activate_map else mask_preds.sigmoid()
        scale_factor = bboxes.new_tensor(img_meta['scale_factor']).repeat(2)
        img_h, img_w = img_meta['ori_shape'][:2]
        if rescale:
            bboxes /= scale_factor
        else:
            img_h = int(np.round(img_h * img_meta['scale_factor'][1]))
            img_w = int(np.round(img_w * img_meta['scale_factor'][0]))
        if self.class_agnostic:
            probs = probs[:, 0]
        else:
            probs = probs[range(len(probs)), labels]
        return paste_masks_detectron(probs, bboxes, img_h, img_w, threshold)
