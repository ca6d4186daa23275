# Copyright (c) mmpanet contributors. All rights reserved.
"""An exported graph behind MMEngine's model interface, so that the
Runner's test loop, its evaluators and mmdet's ``DetInferencer`` run it as
they run the PyTorch detector."""
from typing import List

import torch
from mmdet.apis import DetInferencer
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.model import BaseModel
from mmengine.structures import InstanceData

from .runtime import ONNXDetector


@MODELS.register_module()
class ONNXRuntimeDetector(BaseModel):
    """The detections of an ONNX graph written by
    :func:`mmpanet.deploy.export_onnx`, run by ONNX Runtime on CPU.

    It takes the test pipeline's output (resized ``uint8`` images, BGR)
    and gives ``pred_instances`` as the PyTorch detector's
    ``predict(..., rescale=True)``: boxes and masks at the original size.

    Args:
        onnx_file (str): The graph.
        num_threads (int, optional): ONNX Runtime's intra-op threads.
    """

    def __init__(self, onnx_file: str, num_threads: int = None) -> None:
        super().__init__()
        self.runtime = ONNXDetector(onnx_file, num_threads)
        self.dataset_meta = self.runtime.dataset_meta

    def test_step(self, data: dict) -> List[DetDataSample]:
        samples = data['data_samples']
        for image, sample in zip(data['inputs'], samples):
            meta = {
                key: sample.metainfo[key]
                for key in ('ori_shape', 'img_shape', 'scale_factor')
            }
            input = self.runtime.normalize(image.permute(1, 2, 0).numpy())
            results = self.runtime.postprocess(self.runtime.run(input), meta)
            sample.pred_instances = InstanceData(
                bboxes=torch.from_numpy(results['boxes']),
                scores=torch.from_numpy(results['scores']),
                labels=torch.from_numpy(results['labels']))
            if 'masks' in results:
                sample.pred_instances.masks = torch.from_numpy(
                    results['masks'])
        return samples

    val_step = test_step

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            'an ONNX Runtime model only predicts (test_step)')


class ONNXInferencer(DetInferencer):
    """mmdet's ``DetInferencer`` (its pipeline, pictures and JSON) with an
    ONNX graph in place of the PyTorch detector: ``weights`` is the
    ``.onnx`` file, ``model`` the config it was exported from."""

    def _init_model(self, cfg, weights: str, device: str = 'cpu'):
        if device != 'cpu':
            raise ValueError('the ONNX Runtime backend runs on CPU')
        model = ONNXRuntimeDetector(weights)
        model.cfg = cfg
        return model
