# Copyright (c) mmpanet contributors. All rights reserved.
"""Small deterministic inputs for tests and benchmarks: images with boxes,
box-shaped masks and labels, in the format a detector's data preprocessor
takes."""
from typing import List, Sequence, Tuple

import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

# (height, width, boxes [[x1, y1, x2, y2], ...], labels)
Spec = Tuple[int, int, Sequence[Sequence[float]], Sequence[int]]


def make_sample(h: int,
                w: int,
                boxes: Sequence[Sequence[float]],
                labels: Sequence[int],
                seed: int = 0) -> Tuple[torch.Tensor, DetDataSample]:
    """One random image ``(3, h, w)`` and its ground truth; each mask fills
    its box."""
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), generator=g).float()
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(h, w),
            ori_shape=(h, w),
            scale_factor=(1.0, 1.0),
            pad_shape=(h, w),
            batch_input_shape=(h, w)))
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    masks = torch.zeros(len(boxes), h, w, dtype=torch.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes.long().tolist()):
        masks[i, y1:y2, x1:x2] = 1
    sample.gt_instances = InstanceData(
        bboxes=boxes,
        labels=torch.tensor(labels, dtype=torch.long),
        masks=BitmapMasks(masks.numpy(), h, w))
    return img, sample


def make_batch(specs: Sequence[Spec]) -> dict:
    """``dict(inputs, data_samples)`` for ``specs``, image ``i`` seeded with
    ``i``."""
    imgs, samples = zip(
        *[make_sample(*spec, seed=i) for i, spec in enumerate(specs)])
    return dict(inputs=list(imgs), data_samples=list(samples))


def add_proposals(data: dict, num: int = 16, seed: int = 0) -> dict:
    """Give each data sample of ``data`` fixed ``proposals``, as a dataset
    with a ``proposal_file`` does: its ground-truth boxes shifted by up to
    10% of their size, then ``num`` random boxes, scored from 1 down."""
    g = torch.Generator().manual_seed(seed)
    for sample in data['data_samples']:
        h, w = sample.img_shape
        gt = sample.gt_instances.bboxes
        size = (gt[:, 2:] - gt[:, :2]).repeat(1, 2)
        shifted = gt + size * (torch.rand(gt.shape, generator=g) - 0.5) * 0.2
        corners = torch.rand(num, 2, 2, generator=g) * torch.tensor([w, h])
        random = torch.cat([corners.min(1)[0], corners.max(1)[0] + 1], 1)
        bboxes = torch.cat([shifted, random])
        bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, w)
        bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, h)
        sample.proposals = InstanceData(
            bboxes=bboxes, scores=torch.linspace(1, 0, len(bboxes)))
    return data


def random_specs(num: int,
                 size: Tuple[int, int],
                 num_boxes: int = 4,
                 num_classes: int = 4,
                 seed: int = 0) -> List[Spec]:
    """``num`` images of ``size`` (H, W), each with ``num_boxes`` seeded
    random boxes of up to 35% of the image side."""
    g = torch.Generator().manual_seed(seed)
    h, w = size
    specs = []
    for _ in range(num):
        xy = torch.rand(
            num_boxes, 2, generator=g) * torch.tensor([w * .6, h * .6])
        wh = torch.rand(
            num_boxes, 2, generator=g) * torch.tensor([w * .35, h * .35])
        boxes = torch.cat([xy, xy + wh + 8], 1)
        labels = torch.randint(0, num_classes, (num_boxes, ), generator=g)
        specs.append((h, w, boxes.tolist(), labels.tolist()))
    return specs
