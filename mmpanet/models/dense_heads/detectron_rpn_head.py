# Copyright (c) mmpanet contributors. All rights reserved.
from typing import List

from mmdet.models.dense_heads import RPNHead
from mmdet.registry import MODELS
from mmengine.structures import InstanceData
from torch import Tensor


@MODELS.register_module()
class DetectronRPNHead(RPNHead):
    """mmdet's ``RPNHead`` whose proposals are clipped to the padded network
    input, as Detectron's ``GenerateProposalsOp`` (the PANet authors' code)
    clips them: its ``im_info`` holds the height and width of the padded
    image batch, not of the resized image. mmdet's head clips to the
    resized image (``img_shape``); here the decoder gets the batch's
    ``batch_input_shape`` instead. Everything else is ``RPNHead``'s: one
    3x3 conv with ReLU, sigmoid objectness per anchor, per-level top-k
    before NMS (``test_cfg.nms_pre``), per-level NMS and the top
    ``max_per_img`` over all levels (as their collect step takes them).
    """

    def _predict_by_feat_single(self,
                                cls_score_list: List[Tensor],
                                bbox_pred_list: List[Tensor],
                                score_factor_list: List[Tensor],
                                mlvl_priors: List[Tensor],
                                img_meta: dict,
                                cfg,
                                rescale: bool = False,
                                with_nms: bool = True) -> InstanceData:
        padded = dict(img_meta, img_shape=img_meta['batch_input_shape'])
        return super()._predict_by_feat_single(cls_score_list, bbox_pred_list,
                                               score_factor_list, mlvl_priors,
                                               padded, cfg, rescale, with_nms)
