# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Optional

import torch
from mmdet.registry import MODELS
from mmdet.structures.bbox import scale_boxes
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from ...layers import FUSION_OPS, AdaptiveFeatureFusion
from ...utils import check_choice, check_positive_int
from .normed_convfc_bbox_head import NormedConvFCBBoxHead


@MODELS.register_module()
class AFPConvFCBBoxHead(NormedConvFCBBoxHead):
    """Box head with adaptive feature pooling (PANet Sec. 3.2, Fig. 6).

    The layout is :class:`NormedConvFCBBoxHead` (shared convs, then fcs
    with norm and ReLU, then ``fc_cls``/``fc_reg``), with its FIRST layer
    (``conv1`` or ``fc1``) made per level by ``_add_conv_fc_branch``: each
    of the ``num_levels`` RoI grids goes through its own copy (separate
    weights) and the outputs are fused by ``fusion``
    (:class:`AdaptiveFeatureFusion`). Loss, targets and prediction are
    mmdet's ``BBoxHead``.

    Args:
        num_levels (int): Levels pooled by the RoI extractor (the number of
            its ``featmap_strides``). Defaults to 4.
        fusion (str): Element-wise fusion, a key of ``FUSION_OPS``: 'max'
            (paper) or 'sum' (Table 4).
        fuse_after (str, optional): Where the levels are fused: after the
            first layer ('fc1' or 'conv1', the paper's ``fc1fu.fc2``; the
            default) or right after RoIAlign ('roi_align', ``fu.fc1fc2``).
        grouped_conv (bool): Run a conv first layer of all levels as one
            grouped convolution (see :class:`PerLevelLayers`). Defaults to
            True.
        decode_on_original_image (bool): At test time, map the proposals
            back to the original image before decoding, then decode, clip
            and run NMS there, as the authors' (Detectron's) test code does.
            It matters only for a coder with the +1 pixel convention
            (``DetectronDeltaXYWHBBoxCoder``), which is not
            scale-equivariant. Defaults to False (mmdet: decode on the
            resized image, then rescale).
        **kwargs: Arguments of :class:`NormedConvFCBBoxHead` (``norm_cfg``
            after every conv and, with ``norm_fcs``, every fc).

    Input: ``(num_rois, num_levels, C, H, W)`` from ``AllLevelRoIExtractor``
    (or ``(num_rois, C, H, W)`` when ``num_levels == 1``).
    """

    def __init__(self,
                 num_shared_convs: int = 0,
                 num_shared_fcs: int = 2,
                 num_levels: int = 4,
                 fusion: str = 'max',
                 fuse_after: Optional[str] = None,
                 grouped_conv: bool = True,
                 decode_on_original_image: bool = False,
                 **kwargs) -> None:
        first_layer = 'conv1' if num_shared_convs else 'fc1'
        fuse_after = first_layer if fuse_after is None else fuse_after
        check_choice('bbox_head.fuse_after', fuse_after,
                     (first_layer, 'roi_align'))
        check_positive_int('bbox_head.num_levels', num_levels)
        check_choice('bbox_head.fusion', fusion, FUSION_OPS)
        # read by _add_conv_fc_branch, which ConvFCBBoxHead.__init__ calls
        self.num_levels = num_levels
        self.fusion = fusion
        self.fuse_after = fuse_after
        self.grouped_conv = grouped_conv
        self.decode_on_original_image = decode_on_original_image
        super().__init__(
            num_shared_convs=num_shared_convs,
            num_shared_fcs=num_shared_fcs,
            **kwargs)

    def _add_conv_fc_branch(self,
                            num_branch_convs: int,
                            num_branch_fcs: int,
                            in_channels: int,
                            is_shared: bool = False) -> tuple:
        """The shared branch's first layer becomes per level + fusion."""
        convs, fcs, dim = super()._add_conv_fc_branch(num_branch_convs,
                                                      num_branch_fcs,
                                                      in_channels, is_shared)
        if is_shared:
            branch = convs if num_branch_convs else fcs
            branch[0] = AdaptiveFeatureFusion(
                branch[0],
                num_levels=self.num_levels,
                fusion=self.fusion,
                fuse_first=self.fuse_after == 'roi_align',
                grouped_conv=self.grouped_conv)
        return convs, fcs, dim

    def _predict_by_feat_single(
            self,
            roi: Tensor,
            cls_score: Tensor,
            bbox_pred: Tensor,
            img_meta: dict,
            rescale: bool = False,
            rcnn_test_cfg: Optional[ConfigDict] = None) -> InstanceData:
        if not self.decode_on_original_image:
            return super()._predict_by_feat_single(roi, cls_score, bbox_pred,
                                                   img_meta, rescale,
                                                   rcnn_test_cfg)
        scale = roi.new_tensor(img_meta['scale_factor']).repeat(2)
        roi = torch.cat([roi[:, :1], roi[:, 1:] / scale], dim=1)
        original = dict(
            img_meta,
            img_shape=img_meta['ori_shape'][:2],
            scale_factor=(1., 1.))
        results = super()._predict_by_feat_single(roi, cls_score, bbox_pred,
                                                  original, False,
                                                  rcnn_test_cfg)
        if not rescale:  # back to the resized image, e.g. for the mask RoIs
            results.bboxes = scale_boxes(results.bboxes,
                                         img_meta['scale_factor'])
        return results


@MODELS.register_module()
class AFPShared2FCBBoxHead(AFPConvFCBBoxHead):
    """PANet's 2fc box head: per-level fc1, fusion, fc2 (Fig. 6)."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(
            num_shared_convs=0,
            num_shared_fcs=2,
            fc_out_channels=fc_out_channels,
            **kwargs)


@MODELS.register_module()
class AFPShared4Conv1FCBBoxHead(AFPConvFCBBoxHead):
    """PANet's heavier head (HHD, Sec. 4.2): per-level conv1, fusion, three
    shared 3x3 convs and one fc."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(
            num_shared_convs=4,
            num_shared_fcs=1,
            fc_out_channels=fc_out_channels,
            **kwargs)
