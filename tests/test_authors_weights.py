# Copyright (c) mmpanet contributors. All rights reserved.
"""The authors' released PANet checkpoints, converted and run exactly.

For each released model (mask; detection with the 4conv1fc head;
detection with the 2fc head) the test writes a random checkpoint in the
authors' key layout and shapes (``their_layout``, written from their module
code), in the legacy format of their old PyTorch, converts it with the
command-line tool, loads it strictly into the model's config, and compares
every stage with ``authors_reference`` (their forward pass in plain torch
and numpy): input blob, C2-C5, the N levels, RPN logits and deltas,
proposals, box logits and deltas, final boxes / scores / labels, mask
probabilities and pasted masks. Tensors agree within 1e-4 of the largest
magnitude of the reference tensor.
"""
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import cv2
import numpy as np
import pytest
import torch
from authors_reference import im_detect_all
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from scipy.optimize import linear_sum_assignment
from tool_utils import ROOT, load_tool

from mmpanet.apis import init_model
from mmpanet.engine.checkpoint import load
from mmpanet.model_converters import convert_state_dict
from mmpanet.paper.tables import RELEASED

TEST_SCALE, MAX_SIZE = 160, 256  # small, so that CPU runs in seconds
MASK_MODEL = next(m for m in RELEASED if m.with_mask)


def their_layout(box_head: str, with_mask: bool) -> 'OrderedDict':
    """Key -> shape of their Generalized_RCNN's state dict (ResNet-50 FPN
    body with the bottom-up path, FPN RPN, AFP box head, FF mask head with
    AFP; COCO: 81 classes with the background)."""
    s = OrderedDict()
    body = 'Conv_Body.conv_body'
    s[f'{body}.res1.conv1.weight'] = (64, 3, 7, 7)
    s[f'{body}.res1.bn1.weight'] = s[f'{body}.res1.bn1.bias'] = (64, )
    dim_in = 64
    for stage, blocks, inner, out in zip((2, 3, 4, 5), (3, 4, 6, 3),
                                         (64, 128, 256, 512),
                                         (256, 512, 1024, 2048)):
        for b in range(blocks):
            p = f'{body}.res{stage}.{b}'
            s[f'{p}.conv1.weight'] = (inner, dim_in, 1, 1)
            s[f'{p}.bn1.weight'] = s[f'{p}.bn1.bias'] = (inner, )
            s[f'{p}.conv2.weight'] = (inner, inner, 3, 3)
            s[f'{p}.bn2.weight'] = s[f'{p}.bn2.bias'] = (inner, )
            s[f'{p}.conv3.weight'] = (out, inner, 1, 1)
            s[f'{p}.bn3.weight'] = s[f'{p}.bn3.bias'] = (out, )
            if b == 0:
                s[f'{p}.downsample.0.weight'] = (out, dim_in, 1, 1)
                s[f'{p}.downsample.1.weight'] = (out, )
                s[f'{p}.downsample.1.bias'] = (out, )
            dim_in = out

    def conv_gn(name, cin, cout=256, k=3, bias=False):
        s[f'{name}.0.weight'] = (cout, cin, k, k)
        if bias:
            s[f'{name}.0.bias'] = (cout, )
        s[f'{name}.1.weight'] = s[f'{name}.1.bias'] = (cout, )

    conv_gn('Conv_Body.conv_top', 2048, k=1)
    for i, c in enumerate((1024, 512, 256)):
        conv_gn(f'Conv_Body.topdown_lateral_modules.{i}.conv_lateral', c, k=1)
    for i in range(4):
        conv_gn(f'Conv_Body.posthoc_modules.{i}', 256)
    for i in range(3):
        conv_gn(f'Conv_Body.panet_buttomup_conv1_modules.{i}', 256, bias=True)
        conv_gn(f'Conv_Body.panet_buttomup_conv2_modules.{i}', 256, bias=True)
    for name, cout, k in (('conv', 256, 3), ('cls_score', 3, 1), ('bbox_pred',
                                                                  12, 1)):
        s[f'RPN.FPN_RPN_{name}.weight'] = (cout, 256, k, k)
        s[f'RPN.FPN_RPN_{name}.bias'] = (cout, )
    if box_head == '4conv1fc':
        for j in range(3):
            s[f'Box_Head.convs.{3 * j}.weight'] = (256, 256, 3, 3)
            s[f'Box_Head.convs.{3 * j + 1}.weight'] = (256, )
            s[f'Box_Head.convs.{3 * j + 1}.bias'] = (256, )
        s['Box_Head.fc.weight'], s['Box_Head.fc.bias'] = (1024,
                                                          12544), (1024, )
        for i in range(4):
            conv_gn(f'Box_Head.conv1_head.{i}', 256)
    else:
        for i in range(4):
            s[f'Box_Head.fc1.{i}.0.weight'] = (1024, 12544)
            for key in ('0.bias', '1.weight', '1.bias'):
                s[f'Box_Head.fc1.{i}.{key}'] = (1024, )
        s['Box_Head.fc2.0.weight'] = (1024, 1024)
        for key in ('0.bias', '1.weight', '1.bias'):
            s[f'Box_Head.fc2.{key}'] = (1024, )
    s['Box_Outs.cls_score.weight'] = (81, 1024)
    s['Box_Outs.cls_score.bias'] = (81, )
    s['Box_Outs.bbox_pred.weight'] = (324, 1024)
    s['Box_Outs.bbox_pred.bias'] = (324, )
    if with_mask:
        for j in range(2):
            s[f'Mask_Head.conv_fcn.{3 * j}.weight'] = (256, 256, 3, 3)
            s[f'Mask_Head.conv_fcn.{3 * j + 1}.weight'] = (256, )
            s[f'Mask_Head.conv_fcn.{3 * j + 1}.bias'] = (256, )
        for i in range(4):
            conv_gn(f'Mask_Head.mask_conv1.{i}', 256)
        conv_gn('Mask_Head.mask_conv4', 256)
        conv_gn('Mask_Head.mask_conv4_fc', 256)
        conv_gn('Mask_Head.mask_conv5_fc', 256, cout=128)
        s['Mask_Head.mask_fc.0.weight'] = (784, 25088)
        s['Mask_Head.mask_fc.0.bias'] = (784, )
        s['Mask_Head.upconv.weight'] = (256, 256, 2, 2)
        s['Mask_Head.upconv.bias'] = (256, )
        s['Mask_Outs.classify.weight'] = (81, 256, 1, 1)
        s['Mask_Outs.classify.bias'] = (81, )
    return s


def random_weights(layout: 'OrderedDict', seed: int) -> 'OrderedDict':
    """Random tensors of ``layout`` whose activations stay in range through
    the network without normalization in the backbone."""
    g = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for key, shape in layout.items():
        if len(shape) > 1:  # conv / linear weights: He-like
            fan_in = int(np.prod(shape[1:]))
            gain = 1.0
            if key.startswith('Conv_Body.conv_body') and 'conv3' in key:
                gain = 0.3  # keeps the residual sums from growing
            if 'cls_score' in key or 'bbox_pred' in key:
                gain = 1.5  # spread scores: some detections pass 0.05
            t = torch.randn(shape, generator=g) * gain * (2.0 / fan_in)**.5
        elif key.endswith('.weight'):  # affine / GN scales
            t = 0.5 + torch.rand(shape, generator=g)
        else:  # biases and shifts
            t = 0.1 * torch.randn(shape, generator=g)
        sd[key] = t
    return sd


def write_legacy(obj, path) -> None:
    """torch.save in the pre-1.6 (non-zip) format their PyTorch wrote."""
    torch.save(obj, path, _use_new_zipfile_serialization=False)


@pytest.fixture(scope='module')
def image_path(tmp_path_factory):
    """A small BGR image with some structure (not square: 90 x 120)."""
    rng = np.random.RandomState(0)
    img = cv2.GaussianBlur(
        rng.randint(0, 256, (90, 120, 3)).astype(np.uint8), (7, 7), 2)
    cv2.rectangle(img, (20, 15), (70, 60), (30, 200, 90), -1)
    cv2.circle(img, (95, 50), 18, (220, 40, 40), -1)
    path = str(tmp_path_factory.mktemp('img') / 'photo.png')
    cv2.imwrite(path, img)
    return path


@pytest.fixture(
    scope='module',
    params=RELEASED,
    ids=lambda m: m.box_head + ('-mask' if m.with_mask else '-det'))
def converted(request, tmp_path_factory):
    """(released model, their state dict, converted checkpoint path)."""
    released = request.param
    tmp = tmp_path_factory.mktemp(released.box_head)
    theirs = random_weights(
        their_layout(released.box_head, released.with_mask), seed=1)
    src, dst = str(tmp / 'model_step89999.pth'), str(tmp / 'converted.pth')
    write_legacy(
        dict(epoch=0, step=1, iters_per_epoch=2, model=theirs, optimizer={}),
        src)
    tool = load_tool('tools/model_converters/panet_authors_to_mmdet.py')
    tool.main([src, dst])
    return released, theirs, dst


def build_model(released, checkpoint):
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'panet', released.config + '.py'))
    cfg.model.backbone.init_cfg = None
    model = init_model(cfg.model)
    ckpt = load(checkpoint, map_location='cpu')
    missing, unexpected = model.load_state_dict(ckpt['state_dict'])
    return cfg, model, ckpt, missing, unexpected


def test_converted_checkpoint_loads_strictly(converted):
    released, theirs, dst = converted
    _, model, ckpt, missing, unexpected = build_model(released, dst)
    assert not missing and not unexpected
    assert set(ckpt) == {'state_dict', 'meta'}
    classes = ckpt['meta']['dataset_meta']['classes']
    assert len(classes) == 80 and classes[0] == 'person'
    assert ckpt['meta']['config'].endswith(released.config + '.py')
    sd = ckpt['state_dict']
    # background: first in theirs, last in mmdet; dropped where per class
    head = 'roi_head.bbox_head'
    assert torch.equal(sd[f'{head}.fc_cls.weight'][-1],
                       theirs['Box_Outs.cls_score.weight'][0])
    assert torch.equal(sd[f'{head}.fc_cls.weight'][:80],
                       theirs['Box_Outs.cls_score.weight'][1:])
    assert torch.equal(sd[f'{head}.fc_reg.bias'],
                       theirs['Box_Outs.bbox_pred.bias'][4:])
    if released.with_mask:
        assert torch.equal(sd['roi_head.mask_head.conv_logits.weight'],
                           theirs['Mask_Outs.classify.weight'][1:])
    # AffineChannel -> frozen BN that computes x * w + b exactly
    bn = model.backbone.bn1
    x = torch.randn(2, 64, 5, 5)
    assert not bn.training and not bn.weight.requires_grad
    expected = x * theirs['Conv_Body.conv_body.res1.bn1.weight'].view(
        1, -1, 1, 1) + theirs['Conv_Body.conv_body.res1.bn1.bias'].view(
            1, -1, 1, 1)
    torch.testing.assert_close(bn(x), expected, rtol=1e-6, atol=1e-6)


def test_bad_checkpoints_are_named_with_their_keys(converted):
    _, theirs, _ = converted
    broken = OrderedDict(theirs)
    broken.pop('RPN.FPN_RPN_conv.weight')
    broken['Box_Head.extra.weight'] = torch.zeros(1)
    with pytest.raises(KeyError) as e:
        convert_state_dict(broken)
    assert 'missing keys (1): RPN.FPN_RPN_conv.weight' in str(e.value)
    assert 'unknown keys (1): Box_Head.extra.weight' in str(e.value)


@pytest.mark.parametrize(
    'converted', [MASK_MODEL], indirect=True, ids=['4conv1fc-mask'])
def test_the_tool_reports_bad_checkpoints_without_a_traceback(
        converted, tmp_path):
    _, theirs, _ = converted
    broken = OrderedDict(theirs)
    broken.pop('RPN.FPN_RPN_conv.weight')
    src = tmp_path / 'bad.pth'
    write_legacy(dict(model=broken), src)
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools/model_converters/panet_authors_to_mmdet.py'),
        str(src),
        str(tmp_path / 'out.pth')
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert 'missing keys (1): RPN.FPN_RPN_conv.weight' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'out.pth').exists()
    write_legacy(dict(state_dict=theirs), src)
    with pytest.raises(SystemExit, match="'model' entry"):
        load_tool('tools/model_converters/panet_authors_to_mmdet.py').main(
            [str(src), str(tmp_path / 'out.pth')])


def close(ours, ref, what):
    """Within 1e-4 of the reference's largest magnitude."""
    ours = torch.as_tensor(ours).float()
    ref = torch.as_tensor(ref).float()
    assert ours.shape == ref.shape, (what, ours.shape, ref.shape)
    scale = ref.abs().max().clamp(min=1e-12)
    err = (ours - ref).abs().max() / scale
    assert err <= 1e-4, f'{what}: relative error {err:.2e}'


def match(ours, theirs, what, ours_groups=None, theirs_groups=None):
    """The permutation of the boxes ``theirs`` that pairs the boxes of
    ``ours`` one-to-one at the least total distance (within the same group,
    e.g. label); asserts every pair is within 1e-4 of the largest
    coordinate. Sets are compared this way because scores that tie to
    within float error may swap order."""
    ours = torch.as_tensor(ours).double()
    theirs = torch.as_tensor(theirs).double()
    assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
    dist = torch.cdist(ours, theirs, p=float('inf'))
    if ours_groups is not None:
        other = torch.as_tensor(ours_groups)[:, None] != torch.as_tensor(
            theirs_groups)[None, :]
        dist[other] = 1e9
    rows, perm = linear_sum_assignment(dist.numpy())
    worst = dist[rows, perm].max()
    assert worst <= 1e-4 * theirs.abs().max(), \
        f'{what}: worst pair differs by {worst:.2e}'
    return perm


def test_every_stage_matches_the_authors_forward_pass(converted, image_path):
    released, theirs, dst = converted
    cfg, model, *_ = build_model(released, dst)
    # the config tests at their scale, with their resize
    steps = cfg.test_dataloader.dataset.pipeline
    resize = [t for t in steps if t['type'] == 'DetectronResize']
    assert [t['scale'] for t in resize] == [(1400, 1000)]
    resize[0]['scale'] = (MAX_SIZE, TEST_SCALE)
    pipeline = Compose([t for t in steps if t['type'] != 'LoadAnnotations'])
    data = model.data_preprocessor(
        pseudo_collate([pipeline(dict(img_path=image_path, img_id=0))]), False)
    inputs, samples = data['inputs'], data['data_samples']
    im = cv2.imread(image_path)
    ref = im_detect_all(theirs, im, TEST_SCALE, MAX_SIZE, released.box_head,
                        released.with_mask)

    with torch.no_grad():
        close(inputs, ref['blob'], 'input blob')
        assert samples[0].scale_factor == (ref['im_scale'], ) * 2
        c = model.backbone(inputs)
        for i in range(4):
            close(c[i], ref['c'][i], f'C{i + 2}')
        feats = model.neck(c)
        for i in range(5):
            close(feats[i], ref['n'][4 - i], f'N{i + 2}')
        logits, deltas = model.rpn_head(feats)
        for i in range(5):
            close(logits[i], ref['rpn_logits'][i], f'RPN logits P{i + 2}')
            close(deltas[i], ref['rpn_deltas'][i], f'RPN deltas P{i + 2}')
        proposals = model.rpn_head.predict(feats, samples, rescale=False)[0]
        assert len(proposals) == len(ref['rois']) > 100
        perm = match(proposals.bboxes, ref['rois'][:, 1:], 'proposals')
        close(proposals.scores, ref['rpn_scores'][perm], 'proposal scores')
        assert (perm[:20] == np.arange(20)).all()  # the same score order

        # the box head on their proposals
        rois = torch.from_numpy(ref['rois'])
        cls_score, bbox_pred = model.roi_head.bbox_head(
            model.roi_head.bbox_roi_extractor(feats[:4], rois))
        logits81 = ref['cls_logits']
        close(cls_score, torch.cat([logits81[:, 1:], logits81[:, :1]], 1),
              'box logits')
        close(bbox_pred, ref['deltas'][:, 4:], 'box deltas')

        result = model.predict(inputs, samples)[0].pred_instances
    # mmdet's boxes end at the right edge, theirs at the last pixel
    one_pixel = torch.tensor([0., 0., 1., 1.])
    # final detections: the same set (ours sorted by score, theirs by class)
    n = len(ref['det_scores'])
    assert len(result) == n > 5, (len(result), n)
    perm = match(result.bboxes - one_pixel, ref['det_boxes'], 'detections',
                 result.labels + 1, ref['det_labels'])
    assert (result.labels.numpy() + 1 == ref['det_labels'][perm]).all()
    close(result.scores, ref['det_scores'][perm], 'detection scores')
    close(result.bboxes - one_pixel, ref['det_boxes'][perm], 'detection boxes')
    if not released.with_mask:
        return

    with torch.no_grad():
        mask_logits = model.roi_head.mask_head(
            model.roi_head.mask_roi_extractor(
                feats[:4], torch.from_numpy(ref['mask_rois'])))
    close(mask_logits.sigmoid(), ref['mask_probs'][:, 1:], 'mask probs')
    ours_masks = result.masks.numpy()
    theirs_masks = np.stack(ref['masks'])[perm].astype(bool)
    assert ours_masks.shape == theirs_masks.shape == (n, *im.shape[:2])
    assert theirs_masks.any()
    assert (ours_masks == theirs_masks).all(), 'pasted masks differ'


@pytest.mark.parametrize(
    'converted', [MASK_MODEL], indirect=True, ids=['4conv1fc-mask'])
def test_infer_draws_coco_class_names_with_a_converted_checkpoint(
        converted, image_path, tmp_path):
    released, _, dst = converted
    config = osp.join(ROOT, 'configs', 'panet', released.config + '.py')
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'infer.py'), image_path, config, dst,
        '--out-dir',
        str(tmp_path), '--score-thr', '0.05'
    ],
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    coco = Config.fromfile(config).test_dataloader.dataset.get('metainfo')
    assert coco is None  # class names come from the checkpoint's meta
    from mmdet.datasets import CocoDataset
    names = CocoDataset.METAINFO['classes']
    line = next(li for li in proc.stdout.splitlines() if 'detections' in li)
    found = [part.split(' x')[0] for part in line.split(': ')[1].split(', ')]
    assert found and set(found) <= set(names), line
    drawn = cv2.imread(str(tmp_path / 'vis' / 'photo.png'))
    assert drawn.shape == cv2.imread(image_path).shape
    assert (drawn != cv2.imread(image_path)).any()  # boxes, masks, labels
