# Copyright (c) mmpanet contributors. All rights reserved.
from typing import Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList
from torch import Tensor


@MODELS.register_module()
class DetectronRoIHead(StandardRoIHead):
    """``StandardRoIHead`` for box and mask heads that work, as Detectron
    (the PANet authors' code) does, in inclusive pixel boxes.

    A Detectron box names the last pixel it covers (``x2`` is the right
    edge minus one, the width is ``x2 - x1 + 1``); its box coder, NMS, the
    mask RoIs and the mask pasting all take boxes so, and its COCO
    evaluator reports ``[x1, y1, x2 - x1 + 1, y2 - y1 + 1]``. mmdet's boxes
    (and its ``CocoMetric`` and visualizer) end at the right edge. This head
    runs the box and mask branches on the inclusive boxes, exactly as the
    authors' code, and then adds one original-image pixel to ``x2`` and
    ``y2`` of the results, so that mmdet reports to COCO what their
    evaluator reports. Training is ``StandardRoIHead``'s.
    """

    def predict(self,
                x: Tuple[Tensor],
                rpn_results_list: InstanceList,
                batch_data_samples: SampleList,
                rescale: bool = False) -> InstanceList:
        results_list = super().predict(x, rpn_results_list, batch_data_samples,
                                       rescale)
        for results, sample in zip(results_list, batch_data_samples):
            pixel = torch.ones(2) if rescale else torch.tensor(
                sample.metainfo['scale_factor'], dtype=torch.float32)
            results.bboxes[:, 2:] += pixel.to(results.bboxes)
        return results_list
