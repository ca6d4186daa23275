# Copyright (c) mmpanet contributors. All rights reserved.
"""Instance-segmentation test-time augmentation (InstanceSegTTAModel): box
and mask voting on hand-made inputs, flips undone, views with no detections,
and a real PANet through it."""
import copy

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config, ConfigDict
from mmengine.structures import InstanceData
from model_utils import build
from torch import nn

from mmpanet.models.test_time_augs import (InstanceSegTTAModel, box_voting,
                                           mask_voting, tight_boxes)

MAIN_JOB = 'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py'


def test_box_voting_hand_computed():
    kept = torch.tensor([[0., 0., 10., 10.]])
    boxes = torch.tensor([
        [0., 0., 10., 10.],  # itself, score 0.9
        [1., 1., 11., 11.],  # IoU 81 / 119 = 0.68, score 0.6
        [0., 0., 10., 12.],  # IoU 100 / 120 = 0.83, score 0.3
        [0., 0., 10., 11.],  # another class
    ])
    scores = torch.tensor([0.9, 0.6, 0.3, 0.9])
    labels = torch.tensor([0, 0, 0, 1])
    voted = box_voting(kept, labels[:1], boxes, scores, labels, 0.8)
    # (0.9 * 10 + 0.3 * 12) / 1.2 = 10.5
    assert torch.allclose(voted, torch.tensor([[0., 0., 10., 10.5]]))
    voted = box_voting(kept, labels[:1], boxes, scores, labels, 0.6)
    # weights 0.9, 0.6, 0.3 (sum 1.8)
    assert torch.allclose(
        voted, torch.tensor([[0.6 / 1.8, 0.6 / 1.8, 18.6 / 1.8, 19.2 / 1.8]]))
    assert box_voting(kept[:0], labels[:0], boxes, scores, labels,
                      0.8).shape == (0, 4)


def candidates(boxes, labels, augs, masks):
    return InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        labels=torch.tensor(labels),
        aug=torch.tensor(augs),
        masks=torch.stack(masks))


def test_mask_voting_identical_masks_return_them():
    g = torch.Generator().manual_seed(0)
    mask = torch.rand(12, 16, generator=g)
    box = [[2., 2., 10., 9.]]
    pool = candidates(box * 3, [1, 1, 1], [0, 1, 2], [mask] * 3)
    voted = mask_voting(pool.bboxes[:1], pool.labels[:1], pool, 3, 0.5)
    assert torch.allclose(voted[0], mask)


def test_mask_voting_averages_the_best_match_of_each_view():
    g = torch.Generator().manual_seed(1)
    m = [torch.rand(12, 16, generator=g) for _ in range(5)]
    pool = candidates(
        [
            [2., 2., 10., 9.],  # view 0: the kept instance
            [2., 2., 10., 10.],  # view 1: IoU 0.875, the best in view 1
            [3., 2., 10., 9.],  # view 1: IoU 0.875 * 7 / 8, not taken
            [2., 2., 10., 9.],  # view 2: another class
            [9., 9., 16., 12.],  # view 2: no overlap
        ],
        [0, 0, 0, 1, 0],
        [0, 1, 1, 2, 2],
        m)
    voted = mask_voting(pool.bboxes[:1], pool.labels[:1], pool, 3, 0.5)
    assert torch.allclose(voted[0], (m[0] + m[1]) / 2)


def test_tight_boxes():
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[0, 2:5, 3:7] = True
    boxes = torch.tensor([[0., 0., 8., 8.], [1., 1., 2., 2.]])
    assert tight_boxes(masks, boxes).tolist() == [[3., 2., 7., 5.],
                                                  [1., 1., 2., 2.]]


class BrightPixelDetector(nn.Module):
    """A detector that commutes with flips: one instance of class 0 where
    the image is brighter than mid-grey, its mask probability the
    brightness, its score the mean brightness inside."""

    # what InstanceSegTTAModel reads: a mask branch giving probabilities
    with_mask = True
    roi_head = ConfigDict(test_cfg=dict(mask_thr_binary=-1))

    def test_step(self, data):
        out = []
        for img, sample in zip(data['inputs'], data['data_samples']):
            prob = img.float().mean(0) / 255
            ys, xs = torch.nonzero(prob > 0.5, as_tuple=True)
            pred = InstanceData(
                bboxes=torch.zeros(0, 4),
                scores=torch.zeros(0),
                labels=torch.zeros(0, dtype=torch.long),
                masks=torch.zeros(0, *prob.shape, dtype=torch.uint8))
            if len(xs):
                pred = InstanceData(
                    bboxes=torch.tensor(
                        [[xs.min(),
                          ys.min(),
                          xs.max() + 1,
                          ys.max() + 1]]).float(),
                    scores=prob[ys, xs].mean()[None],
                    labels=torch.zeros(1, dtype=torch.long),
                    masks=(prob * 255).to(torch.uint8)[None])
            sample = copy.deepcopy(sample)
            sample.pred_instances = pred
            out.append(sample)
        return out


def views(img, flips):
    """The TTA data of one image: the image and its flipped views."""
    inputs, samples = [], []
    h, w = img.shape[-2:]
    for flip in flips:
        sample = DetDataSample(
            metainfo=dict(
                img_id=0,
                ori_shape=(h, w),
                img_shape=(h, w),
                flip=flip is not None,
                flip_direction=flip))
        dims = {None: (), 'horizontal': (-1, ), 'vertical': (-2, )}[flip]
        inputs.append([img.flip(dims) if dims else img])
        samples.append([sample])
    return dict(inputs=inputs, data_samples=samples)


def tta(**tta_cfg):
    return InstanceSegTTAModel(module=BrightPixelDetector(), tta_cfg=tta_cfg)


def image(symmetric):
    img = torch.zeros(3, 20, 30)
    img[:, 4:12, 3:11] = 200  # bright square off-centre
    img[:, 6:9, 5:7] = 255
    if symmetric:
        img = torch.maximum(img, img.flip(-1))
    return img


@pytest.mark.parametrize('symmetric', [True, False])
@pytest.mark.parametrize('flip', ['horizontal', 'vertical'])
def test_flip_tta_equals_the_single_pass(symmetric, flip):
    img = image(symmetric)
    single = tta().test_step(views(img, [None]))[0].pred_instances
    merged = tta(box_voting_iou_thr=0.8).test_step(views(
        img, [None, flip]))[0].pred_instances
    assert len(single) == len(merged) == 1
    assert torch.allclose(merged.bboxes, single.bboxes)  # voted: float sums
    assert torch.equal(merged.masks, single.masks)
    assert merged.scores.item() == pytest.approx(single.scores.item())
    if not symmetric:  # a flip not undone would move it
        assert single.bboxes.tolist() == [[3., 4., 11., 12.]]


def test_a_view_with_no_detections():
    img = image(symmetric=False)
    dark = views(torch.zeros_like(img), [None, 'horizontal'])
    both = views(img, [None, 'horizontal'])
    # the bright image's flipped view is replaced by the dark one
    both['inputs'][1] = dark['inputs'][1]
    merged = tta().test_step(both)[0].pred_instances
    single = tta().test_step(views(img, [None]))[0].pred_instances
    assert torch.equal(merged.masks, single.masks)
    assert torch.equal(merged.bboxes, single.bboxes)
    nothing = tta(tighten_boxes=True).test_step(dark)[0].pred_instances
    assert len(nothing) == 0
    assert nothing.bboxes.shape == (0, 4) and nothing.masks.shape == (0, 20,
                                                                      30)


def test_bad_tta_cfg_is_named():
    with pytest.raises(ValueError, match='unknown keys'):
        tta(box_vote=0.8)
    with pytest.raises(ValueError, match='box_voting_iou_thr'):
        tta(box_voting_iou_thr=1.5)
    with pytest.raises(ValueError, match='max_per_img'):
        tta(max_per_img=0)


def test_real_panet_one_view_equals_its_own_prediction(root):
    """Through TTA with one view and no voting, full PANet gives what it
    gives alone (masks from its probabilities, binarized by the TTA model:
    at most a few pixels differ by the probabilities' 1/255 steps)."""
    from mmpanet.testing import make_batch
    cfg = Config.fromfile(f'{root}/{MAIN_JOB}')
    model_cfg = cfg.model
    model_cfg.backbone.init_cfg = None
    torch.manual_seed(0)
    detector = build(model_cfg).eval()
    torch.manual_seed(0)
    tta_model = InstanceSegTTAModel(
        module=model_cfg, tta_cfg=dict(mask_voting=False)).eval()
    tta_model.module.load_state_dict(detector.state_dict())
    assert detector.roi_head.test_cfg.mask_thr_binary == 0.5
    assert tta_model.module.roi_head.test_cfg.mask_thr_binary == -1

    data = make_batch([(64, 64, [[8, 8, 40, 40], [30, 20, 60, 50]], [0, 1])])
    for s in data['data_samples']:
        s.set_metainfo(dict(img_id=0, flip=False, flip_direction=None))
    with torch.no_grad():
        alone = detector.test_step(copy.deepcopy(data))[0].pred_instances
        merged = tta_model.test_step({
            k: [v]
            for k, v in copy.deepcopy(data).items()
        })[0].pred_instances
    assert len(alone) > 0 and len(merged) == len(alone)
    assert torch.allclose(merged.bboxes, alone.bboxes)
    assert torch.allclose(merged.scores, alone.scores)
    assert torch.equal(merged.labels, alone.labels)
    assert (merged.masks != alone.masks).float().mean() < 0.005


def test_ensemble_of_one_model_twice_equals_the_model(root, tmp_path):
    """Two identical members merge to what the model alone gives under the
    same TTA (NMS keeps one of each pair; both votes average equal
    values)."""
    from mmpanet.models.test_time_augs import DetectorEnsemble
    from mmpanet.testing import make_batch
    config = f'{root}/{MAIN_JOB}'
    torch.manual_seed(0)
    detector = build(Config.fromfile(config).model)
    checkpoint = tmp_path / 'model.pth'
    torch.save({'state_dict': detector.state_dict()}, checkpoint)
    tta_cfg = dict(box_voting_iou_thr=0.8)
    single = InstanceSegTTAModel(
        module=Config.fromfile(config).model, tta_cfg=tta_cfg).eval()
    single.module.load_state_dict(detector.state_dict())
    member = dict(config=config, checkpoint=str(checkpoint))
    ensemble = InstanceSegTTAModel(
        module=DetectorEnsemble([member, member]), tta_cfg=tta_cfg).eval()

    img, _ = make_batch([(64, 64, [[8, 8, 40, 40]], [0])]).values()
    img = img[0]
    data = views(img, [None, 'horizontal'])
    for samples in data['data_samples']:
        samples[0].set_metainfo(dict(scale_factor=(1., 1.)))
    with torch.no_grad():
        alone = single.test_step(copy.deepcopy(data))[0].pred_instances
        both = ensemble.test_step(copy.deepcopy(data))[0].pred_instances
    assert len(alone) > 0 and len(both) == len(alone)
    assert torch.allclose(both.bboxes, alone.bboxes, atol=1e-4)
    assert torch.allclose(both.scores, alone.scores)
    assert torch.equal(both.masks, alone.masks)

    with pytest.raises(FileNotFoundError, match=r'members\[1\].checkpoint'):
        DetectorEnsemble([member, dict(config=config, checkpoint='x.pth')])
