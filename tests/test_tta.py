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
                                           mask_voting, merge_soft_masks,
                                           tight_boxes)

MAIN_JOB = 'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py'


def test_box_voting_hand_computed():
    kept = torch.tensor([[0., 0., 10., 10.]])
    boxes = torch.tensor([
        [0., 0., 10., 10.],  # itself, score 0.9
        [1., 1., 11., 11.],  # IoU 81 / 119 = 0.68, score 0.6
        [0., 0., 10., 12.],  # IoU 100 / 120 = 0.83, score 0.3
    ])
    scores = torch.tensor([0.9, 0.6, 0.3])
    voted, score = box_voting(kept, scores[:1], boxes, scores, 0.8)
    # (0.9 * 10 + 0.3 * 12) / 1.2 = 10.5; 'ID' keeps the score
    assert torch.allclose(voted, torch.tensor([[0., 0., 10., 10.5]]))
    assert score.tolist() == pytest.approx([0.9])
    voted, _ = box_voting(kept, scores[:1], boxes, scores, 0.6)
    # weights 0.9, 0.6, 0.3 (sum 1.8)
    assert torch.allclose(
        voted, torch.tensor([[0.6 / 1.8, 0.6 / 1.8, 18.6 / 1.8, 19.2 / 1.8]]))
    empty, _ = box_voting(kept[:0], scores[:0], boxes, scores, 0.8)
    assert empty.shape == (0, 4)


@pytest.mark.parametrize(
    'scoring,beta,expected',
    [
        ('ID', 1.0, 0.9),
        ('AVG', 1.0, (0.9 + 0.3) / 2),
        # voters' IoUs 1 and 100 / 120
        ('IOU_AVG', 1.0, (0.9 * 1 + 0.3 * 100 / 120) / (1 + 100 / 120)),
        ('GENERALIZED_AVG', 2.0, ((0.81 + 0.09) / 2)**0.5),
        ('QUASI_SUM', 0.5, (0.9 + 0.3) / 2**0.5),
        # per voter: p / (p + 1 - p) at beta 1 (the max cancels), mean
        ('TEMP_AVG', 1.0, (0.9 + 0.3) / 2),
        # beta 0.5: p^2 / (p^2 + (1 - p)^2)
        ('TEMP_AVG', 0.5, (0.81 / (0.81 + 0.01) + 0.09 / (0.09 + 0.49)) / 2),
    ])
def test_box_voting_scoring_methods_hand_computed(scoring, beta, expected):
    """Detectron's SCORING_METHODs over the voters (IoU >= 0.8): the box
    itself (score 0.9) and one at IoU 100 / 120 (score 0.3); the box at IoU
    0.68 (score 0.6) does not vote."""
    boxes = torch.tensor(
        [[0., 0., 10., 10.], [1., 1., 11., 11.], [0., 0., 10., 12.]],
        dtype=torch.float64)
    scores = torch.tensor([0.9, 0.6, 0.3], dtype=torch.float64)
    _, score = box_voting(boxes[:1], scores[:1], boxes, scores, 0.8, scoring,
                          beta)
    assert score.item() == pytest.approx(expected)


@pytest.mark.parametrize('heuristic,expected', [
    ('SOFT_AVG', lambda p: (p[0] + p[1]) / 2),
    ('SOFT_MAX', lambda p: torch.maximum(p[0], p[1])),
    ('LOGIT_AVG', lambda p: torch.sigmoid(
        (torch.logit(p[0]) + torch.logit(p[1])) / 2)),
])
def test_mask_heuristics_hand_computed(heuristic, expected):
    probs = torch.tensor([[[0.9, 0.2]], [[0.5, 0.6]]], dtype=torch.float64)
    merged = merge_soft_masks(list(torch.logit(probs)), heuristic)
    assert torch.allclose(merged, expected(probs))
    assert merged.tolist()[0][0] == pytest.approx({
        'SOFT_AVG': 0.7,
        'SOFT_MAX': 0.9,
        'LOGIT_AVG': 1 / (1 + 1 / 3)  # logits log 9 and 0: mean log 3
    }[heuristic])


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
    """Mask voting over a detector's whole predictions (the merge that
    takes any detector's test_step)."""
    return InstanceSegTTAModel(
        module=BrightPixelDetector(),
        tta_cfg=dict(merge='mask_voting', **tta_cfg))


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
    with pytest.raises(ValueError, match="not options of merge='mask_voting'"):
        tta(box_vote=0.8)
    with pytest.raises(ValueError, match='box_voting_iou_thr'):
        tta(box_voting_iou_thr=1.5)
    with pytest.raises(ValueError, match='max_per_img'):
        tta(max_per_img=0)
    # options of the other merge, and options that would cancel each other
    with pytest.raises(ValueError, match="not options of merge='mask_voting'"):
        tta(mask_heuristic='SOFT_AVG')
    with pytest.raises(ValueError, match='tighten_boxes.*box_voting_iou_thr'):
        tta(box_voting_iou_thr=0.8, tighten_boxes=True)


def predict_alone_and_as_one_view(detector, tta_model):
    """The detector's predictions on a 64x64 image with two boxes, and the
    TTA model's with that image as its only view."""
    from mmpanet.testing import make_batch
    data = make_batch([(64, 64, [[8, 8, 40, 40], [30, 20, 60, 50]], [0, 1])])
    for s in data['data_samples']:
        s.set_metainfo(dict(img_id=0, flip=False, flip_direction=None))
    with torch.no_grad():
        alone = detector.test_step(copy.deepcopy(data))[0].pred_instances
        merged = tta_model.test_step({
            k: [v]
            for k, v in copy.deepcopy(data).items()
        })[0].pred_instances
    return alone, merged


def test_real_panet_one_view_equals_its_own_prediction(root):
    """Through TTA with one view and no voting, full PANet gives what it
    gives alone (masks from its probabilities, binarized by the TTA model:
    at most a few pixels differ by the probabilities' 1/255 steps)."""
    cfg = Config.fromfile(f'{root}/{MAIN_JOB}')
    model_cfg = cfg.model
    model_cfg.backbone.init_cfg = None
    torch.manual_seed(0)
    detector = build(model_cfg).eval()
    torch.manual_seed(0)
    tta_model = InstanceSegTTAModel(
        module=model_cfg, tta_cfg=dict(merge='mask_voting',
                                       mask_voting=False)).eval()
    tta_model.module.load_state_dict(detector.state_dict())
    assert detector.roi_head.test_cfg.mask_thr_binary == 0.5
    assert tta_model.module.roi_head.test_cfg.mask_thr_binary == -1

    alone, merged = predict_alone_and_as_one_view(detector, tta_model)
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
    tta_cfg = dict(merge='mask_voting', box_voting_iou_thr=0.8)
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


# ------------------------------------------- the authors' (Detectron's) merge
class Toy(nn.Module):
    """A detector that commutes with scaling and flipping: the bright
    rectangle of each image, scored 0.9 for class 0 (0.01 for class 1); its
    mask the brightness inside the box. mmdet's FCN mask head pastes."""

    with_mask = True

    def __init__(self):
        super().__init__()
        from mmdet.models.roi_heads.mask_heads import FCNMaskHead
        self.roi_head = nn.Module()
        self.roi_head.mask_head = FCNMaskHead(
            num_convs=0, roi_feat_size=7, in_channels=4, num_classes=2)

    def test_step(self, data):  # the merge runs the views itself
        raise AssertionError('the detectron merge does not call test_step')


class ToyTTA(InstanceSegTTAModel):
    """The TTA model with the toy's view steps in place of a network's."""

    seen_boxes = []

    def __init__(self, **tta_cfg):
        super().__init__(module=Toy(), tta_cfg=tta_cfg)

    def view_detections(self, detector, view):
        from mmpanet.models.test_time_augs.instance_seg_tta import to_original
        dets = []
        for img, sample in zip(view['inputs'], view['data_samples']):
            ys, xs = torch.nonzero(img.float().mean(0) > 128, as_tuple=True)
            box = torch.tensor(
                [[xs.min(), ys.min(),
                  xs.max() + 1, ys.max() + 1]]).float()
            box = to_original(box, sample.metainfo)
            dets.append(
                InstanceData(
                    boxes=box[:, None].expand(1, 2, 4),
                    scores=torch.tensor([[0.9, 0.01]])))
        return dets

    def view_masks(self, detector, view, results):
        from mmcv.ops import roi_align

        from mmpanet.models.test_time_augs.instance_seg_tta import (flip_masks,
                                                                    to_view)
        out = []
        for img, sample, result in zip(view['inputs'], view['data_samples'],
                                       results):
            boxes = to_view(result.bboxes, sample.metainfo)
            self.seen_boxes.append(boxes)
            bright = (img.float().mean(0) > 128).float()[None, None]
            rois = torch.cat([boxes.new_zeros(len(boxes), 1), boxes], 1)
            prob = roi_align(bright, rois, 28, 1.0, 2, 'avg', True)[:, 0]
            logit = torch.logit(prob.clamp(1e-4, 1 - 1e-4))
            out.append(flip_masks(logit, sample.metainfo))
        return out


def toy_image(h, w, box):
    img = torch.zeros(3, h, w, dtype=torch.uint8)
    x1, y1, x2, y2 = box
    img[:, y1:y2, x1:x2] = 255
    return img


def toy_views(images, views):
    """TTA data of a batch of ``images``: each view ``(scale, flip)``
    resized (nearest, exact for even boxes) then flipped."""
    data = dict(inputs=[], data_samples=[])
    for scale, flip in views:
        inputs, samples = [], []
        for i, img in enumerate(images):
            h, w = img.shape[-2:]
            size = (int(h * scale), int(w * scale))
            view = torch.nn.functional.interpolate(
                img[None].float(), size=size, mode='nearest')[0].byte()
            if flip:
                view = view.flip(-1)
            inputs.append(view)
            samples.append(
                DetDataSample(
                    metainfo=dict(
                        img_id=i,
                        ori_shape=(h, w),
                        img_shape=size,
                        scale_factor=(scale, scale),
                        flip=flip,
                        flip_direction='horizontal' if flip else None)))
        data['inputs'].append(inputs)
        data['data_samples'].append(samples)
    return data


ALL_VIEWS = [(1.0, False), (1.0, True), (2.0, False), (2.0, True),
             (0.5, False), (0.5, True)]


def test_scaled_and_flipped_views_merge_to_the_single_view_answer():
    images = [toy_image(40, 64, (8, 12, 36, 30))]
    tta = ToyTTA(box_voting=dict(iou_thr=0.8, scoring='AVG'))
    single = tta.test_step(toy_views(images, [(1.0, False)]))[0]
    merged = tta.test_step(toy_views(images, ALL_VIEWS))[0]
    ref, out = single.pred_instances, merged.pred_instances
    assert torch.allclose(ref.bboxes, torch.tensor([[8., 12., 36., 30.]]))
    # voting: score-weighted means of equal boxes, equal up to float sums
    assert torch.allclose(out.bboxes, ref.bboxes)
    assert torch.allclose(out.scores, ref.scores)
    assert torch.equal(out.labels, ref.labels)
    assert torch.equal(out.masks, ref.masks)
    assert out.masks[0].sum() == 28 * 18
    assert merged.metainfo['flip'] is False


def test_two_images_of_different_sizes_in_one_batch_merge_as_alone():
    a, b = toy_image(40, 64,
                     (8, 12, 36, 30)), toy_image(32, 48, (2, 4, 16, 22))
    tta = ToyTTA(box_voting=dict(iou_thr=0.8))
    both = tta.test_step(toy_views([a, b], ALL_VIEWS))
    for img, merged in zip((a, b), both):
        alone = tta.test_step(toy_views([img], ALL_VIEWS))[0]
        assert merged.pred_instances.masks.shape[-2:] == img.shape[-2:]
        for key in ('bboxes', 'scores', 'labels', 'masks'):
            assert torch.equal(merged.pred_instances[key],
                               alone.pred_instances[key]), key


def test_masks_are_computed_on_the_voted_boxes_and_tightened_last():
    """Box voting changes the boxes the mask heads see; tightening comes
    after the masks."""
    images = [toy_image(40, 64, (8, 12, 36, 30))]
    tta = ToyTTA(box_voting=dict(iou_thr=0.5), tighten_boxes=True)
    ToyTTA.seen_boxes = []
    merged = tta.test_step(toy_views(images, ALL_VIEWS[:2]))[0].pred_instances
    voted_in_views = ToyTTA.seen_boxes
    assert len(voted_in_views) == 2  # one per view, after voting
    # the identity view saw the final (voted) box
    assert torch.allclose(voted_in_views[0], merged.bboxes)
    assert merged.masks[0, 12:30, 8:36].all() and merged.masks.sum() == 504


def test_detectron_cfg_errors_name_the_keys():
    with pytest.raises(ValueError, match="not options of merge='detectron'"):
        ToyTTA(box_voting_iou_thr=0.8)
    with pytest.raises(ValueError, match='tta_cfg.box_voting.scoring'):
        ToyTTA(box_voting=dict(scoring='MEDIAN'))
    with pytest.raises(ValueError, match='tta_cfg.mask_heuristic'):
        ToyTTA(mask_heuristic='VOTE')
    with pytest.raises(ValueError, match='tta_cfg.merge must be one of'):
        ToyTTA(merge='wbf')


def panet_tta(root, tta_cfg):
    """A seeded random-weight PANet (the main job's model) and the same
    weights inside the TTA model."""
    cfg = Config.fromfile(f'{root}/{MAIN_JOB}')
    torch.manual_seed(0)
    detector = build(cfg.model).eval()
    tta_model = InstanceSegTTAModel(
        module=copy.deepcopy(cfg.model), tta_cfg=tta_cfg).eval()
    tta_model.module.load_state_dict(detector.state_dict())
    return detector, tta_model


def real_views(img, flips, size=64):
    """TTA data of one image (float, 3 x size x size) at scale 1."""
    data = views(img, flips)
    for samples in data['data_samples']:
        samples[0].set_metainfo(
            dict(scale_factor=(1., 1.), batch_input_shape=(size, size)))
    return data


def test_real_panet_one_view_equals_its_own_prediction_detectron(root):
    """One view, no voting: the authors' merge gives what the model gives
    alone (mmdet's multiclass NMS is the same per-class NMS)."""

    # the detector's test_cfg.rcnn: score > 0.05, NMS 0.5, 50 per image
    detector, tta_model = panet_tta(root,
                                    dict(merge='detectron', max_per_img=50))
    alone, merged = predict_alone_and_as_one_view(detector, tta_model)
    assert len(alone) > 0 and len(merged) == len(alone)
    assert torch.allclose(merged.bboxes, alone.bboxes, atol=1e-4)
    assert torch.allclose(merged.scores, alone.scores)
    assert torch.equal(merged.labels, alone.labels)
    assert (merged.masks != alone.masks).float().mean() < 1e-3
    # each merged mask lies inside the box it was computed for
    for mask, box in zip(merged.masks, merged.bboxes):
        ys, xs = torch.nonzero(mask, as_tuple=True)
        if len(xs):
            assert xs.min() >= box[0].floor() - 1 and xs.max() < box[2] + 1
            assert ys.min() >= box[1].floor() - 1 and ys.max() < box[3] + 1


def test_real_panet_on_a_mirrored_image_gives_the_mirror(root):
    """With the views {image, flipped image}, the mirrored image's merged
    detections are the mirror of the image's."""
    from mmpanet.testing import make_batch
    _, tta_model = panet_tta(
        root, dict(box_voting=dict(iou_thr=0.8, scoring='IOU_AVG')))
    img = make_batch([(64, 64, [[8, 8, 40, 40]], [0])])['inputs'][0]
    with torch.no_grad():
        out = tta_model.test_step(real_views(img, [None, 'horizontal']))
        mirrored = tta_model.test_step(
            real_views(img.flip(-1), [None, 'horizontal']))
    a, b = out[0].pred_instances, mirrored[0].pred_instances
    assert len(a) > 0 and len(a) == len(b)
    # match by score (equal up to float summation order)
    a, b = a[a.scores.argsort()], b[b.scores.argsort()]
    assert torch.allclose(a.scores, b.scores, atol=1e-5)
    assert torch.equal(a.labels, b.labels)
    flipped = b.bboxes[:, [2, 1, 0, 3]] * torch.tensor([-1., 1., -1., 1.])
    assert torch.allclose(
        a.bboxes, flipped + torch.tensor([64., 0., 64., 0.]), atol=1e-3)
    inter = (a.masks & b.masks.flip(-1)).flatten(1).sum(1)
    union = (a.masks | b.masks.flip(-1)).flatten(1).sum(1)
    assert (inter / union.clamp(min=1)).min() > 0.98
