# Copyright (c) mmpanet contributors. All rights reserved.
"""The PANet authors' test-time forward pass (ShuLiu1993/PANet, built on
Detectron.pytorch), written out from their code with plain torch and numpy
ops, on THEIR state dict (their key names): the reference the converted
checkpoint and mmpanet's configs are checked against. Nothing here uses
mmdet, mmcv or mmpanet. File references are to their repository.
"""
from typing import Dict, List

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

# lib/core/config.py and configs/panet/*.yaml
PIXEL_MEANS = np.array([[[102.9801, 115.9465, 122.7717]]])
COARSEST_STRIDE = 32
GN_GROUPS, GN_EPS = 32, 1e-5
RPN_LEVELS = range(2, 7)  # RPN_MIN_LEVEL .. RPN_MAX_LEVEL
ROI_LEVELS = range(2, 6)  # ROI_MIN_LEVEL .. ROI_MAX_LEVEL
ANCHOR_START_SIZE, ASPECT_RATIOS = 32, (0.5, 1, 2)
RPN_PRE_NMS_TOP_N, RPN_POST_NMS_TOP_N, RPN_NMS_THRESH = 1000, 1000, 0.7
BBOX_REG_WEIGHTS = (10., 10., 5., 5.)
BBOX_XFORM_CLIP = np.log(1000. / 16.)
SCORE_THRESH, NMS, DETECTIONS_PER_IM = 0.05, 0.5, 100
RESOLUTION, THRESH_BINARIZE = 28, 0.5
NUM_CLASSES = 81


# ------------------------------------------------------------ lib/utils/blob
def get_image_blob(im: np.ndarray, target_size: int, max_size: int):
    """prep_im_for_blob + im_list_to_blob: (blob (1, 3, H, W), im_scale,
    im_info (padded H, padded W, scale))."""
    im = im.astype(np.float32, copy=True)
    im -= PIXEL_MEANS
    im_size_min, im_size_max = min(im.shape[:2]), max(im.shape[:2])
    im_scale = float(target_size) / float(im_size_min)
    if np.round(im_scale * im_size_max) > max_size:
        im_scale = float(max_size) / float(im_size_max)
    im = cv2.resize(
        im,
        None,
        None,
        fx=im_scale,
        fy=im_scale,
        interpolation=cv2.INTER_LINEAR)
    h = int(np.ceil(im.shape[0] / COARSEST_STRIDE) * COARSEST_STRIDE)
    w = int(np.ceil(im.shape[1] / COARSEST_STRIDE) * COARSEST_STRIDE)
    blob = np.zeros((1, h, w, 3), dtype=np.float32)
    blob[0, :im.shape[0], :im.shape[1]] = im
    im_info = np.array([h, w, im_scale], dtype=np.float32)
    return torch.from_numpy(blob.transpose(0, 3, 1, 2)), im_scale, im_info


# ------------------------------------------------------- lib/modeling/ResNet
def affine(x: Tensor, sd: dict, name: str) -> Tensor:
    """AffineChannel2d."""
    w, b = sd[f'{name}.weight'], sd[f'{name}.bias']
    return x * w.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)


def resnet50(x: Tensor, sd: dict) -> List[Tensor]:
    """ResNet50_conv5_body: outputs of res2..res5 (C2..C5)."""
    p = 'Conv_Body.conv_body'
    x = F.conv2d(x, sd[f'{p}.res1.conv1.weight'], stride=2, padding=3)
    x = F.relu(affine(x, sd, f'{p}.res1.bn1'))
    x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    outs = []
    for stage, blocks in zip(range(2, 6), (3, 4, 6, 3)):
        for b in range(blocks):
            q = f'{p}.res{stage}.{b}'
            stride = 2 if (b == 0 and stage > 2) else 1
            # STRIDE_1X1 = True: the stride is on the first 1x1 conv
            out = F.conv2d(x, sd[f'{q}.conv1.weight'], stride=stride)
            out = F.relu(affine(out, sd, f'{q}.bn1'))
            out = F.conv2d(out, sd[f'{q}.conv2.weight'], padding=1)
            out = F.relu(affine(out, sd, f'{q}.bn2'))
            out = affine(
                F.conv2d(out, sd[f'{q}.conv3.weight']), sd, f'{q}.bn3')
            if b == 0:
                residual = affine(
                    F.conv2d(x, sd[f'{q}.downsample.0.weight'], stride=stride),
                    sd, f'{q}.downsample.1')
            else:
                residual = x
            x = F.relu(out + residual)
        outs.append(x)
    return outs


# ---------------------------------------------------------- lib/modeling/FPN
def conv_gn(x: Tensor,
            sd: dict,
            name: str,
            stride=1,
            relu=False,
            conv_bias=False) -> Tensor:
    """Sequential(Conv2d, GroupNorm[, ReLU])."""
    w = sd[f'{name}.0.weight']
    bias = sd[f'{name}.0.bias'] if conv_bias else None
    x = F.conv2d(x, w, bias, stride=stride, padding=w.shape[-1] // 2)
    x = F.group_norm(x, GN_GROUPS, sd[f'{name}.1.weight'],
                     sd[f'{name}.1.bias'], GN_EPS)
    return F.relu(x) if relu else x


def stacked_conv_gn(x: Tensor, sd: dict, name: str, n: int) -> Tensor:
    """Sequential(*[Conv2d 3x3 (no bias), GroupNorm, ReLU] * n)."""
    for j in range(n):
        x = F.conv2d(x, sd[f'{name}.{3 * j}.weight'], padding=1)
        x = F.relu(
            F.group_norm(x, GN_GROUPS, sd[f'{name}.{3 * j + 1}.weight'],
                         sd[f'{name}.{3 * j + 1}.bias'], GN_EPS))
    return x


def fpn_bup(conv_blobs: List[Tensor], sd: dict) -> List[Tensor]:
    """fpn(panet_buttomup=True) with USE_GN: [P6, N5, N4, N3, N2]."""
    p = 'Conv_Body'
    inner = [conv_gn(conv_blobs[-1], sd, f'{p}.conv_top')]
    for i in range(3):
        lat = conv_gn(conv_blobs[-(i + 2)], sd,
                      f'{p}.topdown_lateral_modules.{i}.conv_lateral')
        td = F.interpolate(inner[-1], scale_factor=2, mode='nearest')
        inner.append(lat + td)
    middle = [
        conv_gn(inner[i], sd, f'{p}.posthoc_modules.{i}') for i in range(4)
    ]
    outs = [middle[-1]]
    for i in range(2, 5):
        tmp = conv_gn(
            outs[0],
            sd,
            f'{p}.panet_buttomup_conv1_modules.{i - 2}',
            stride=2,
            relu=True,
            conv_bias=True)
        tmp = tmp + middle[4 - i]
        outs.insert(
            0,
            conv_gn(
                tmp,
                sd,
                f'{p}.panet_buttomup_conv2_modules.{i - 2}',
                relu=True,
                conv_bias=True))
    outs.insert(0, F.max_pool2d(outs[0], kernel_size=1, stride=2))
    return outs


# ------------------------------------------- lib/modeling/generate_anchors
def generate_anchors(stride: int, sizes, aspect_ratios) -> np.ndarray:
    scales = np.array(sizes, dtype=np.float64) / stride
    anchor = np.array([1, 1, stride, stride], dtype=np.float64) - 1

    def whctrs(a):
        w, h = a[2] - a[0] + 1, a[3] - a[1] + 1
        return w, h, a[0] + 0.5 * (w - 1), a[1] + 0.5 * (h - 1)

    def mkanchors(ws, hs, x_ctr, y_ctr):
        ws, hs = ws[:, None], hs[:, None]
        return np.hstack((x_ctr - 0.5 * (ws - 1), y_ctr - 0.5 * (hs - 1),
                          x_ctr + 0.5 * (ws - 1), y_ctr + 0.5 * (hs - 1)))

    w, h, x_ctr, y_ctr = whctrs(anchor)
    ws = np.round(np.sqrt(w * h / np.array(aspect_ratios, np.float64)))
    hs = np.round(ws * np.array(aspect_ratios, np.float64))
    ratio_anchors = mkanchors(ws, hs, x_ctr, y_ctr)
    out = []
    for a in ratio_anchors:
        w, h, x_ctr, y_ctr = whctrs(a)
        out.append(mkanchors(w * scales, h * scales, x_ctr, y_ctr))
    return np.vstack(out)


# -------------------------------------------------------- lib/utils/boxes
def bbox_transform(boxes, deltas, weights):
    if boxes.shape[0] == 0:
        return np.zeros((0, deltas.shape[1]), dtype=deltas.dtype)
    boxes = boxes.astype(deltas.dtype, copy=False)
    widths = boxes[:, 2] - boxes[:, 0] + 1.0
    heights = boxes[:, 3] - boxes[:, 1] + 1.0
    ctr_x = boxes[:, 0] + 0.5 * widths
    ctr_y = boxes[:, 1] + 0.5 * heights
    wx, wy, ww, wh = weights
    dx = deltas[:, 0::4] / wx
    dy = deltas[:, 1::4] / wy
    dw = np.minimum(deltas[:, 2::4] / ww, BBOX_XFORM_CLIP)
    dh = np.minimum(deltas[:, 3::4] / wh, BBOX_XFORM_CLIP)
    pred_ctr_x = dx * widths[:, None] + ctr_x[:, None]
    pred_ctr_y = dy * heights[:, None] + ctr_y[:, None]
    pred_w = np.exp(dw) * widths[:, None]
    pred_h = np.exp(dh) * heights[:, None]
    out = np.zeros(deltas.shape, dtype=deltas.dtype)
    out[:, 0::4] = pred_ctr_x - 0.5 * pred_w
    out[:, 1::4] = pred_ctr_y - 0.5 * pred_h
    out[:, 2::4] = pred_ctr_x + 0.5 * pred_w - 1
    out[:, 3::4] = pred_ctr_y + 0.5 * pred_h - 1
    return out


def clip_tiled_boxes(boxes, im_shape):
    for i, limit in zip(range(4), (1, 0, 1, 0)):
        boxes[:, i::4] = np.maximum(
            np.minimum(boxes[:, i::4], im_shape[limit] - 1), 0)
    return boxes


def nms(dets: np.ndarray, thresh: float) -> np.ndarray:
    """cython_nms.nms: greedy, suppress ``ovr >= thresh``; the kept indices
    in ascending order."""
    if dets.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    x1, y1, x2, y2, scores = (dets[:, i] for i in range(5))
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    suppressed = np.zeros(len(dets), dtype=bool)
    for _i, i in enumerate(order):
        if suppressed[i]:
            continue
        rest = order[_i + 1:]
        rest = rest[~suppressed[rest]]
        w = np.maximum(
            np.float32(0.0),
            np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(
            np.float32(0.0),
            np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        ovr = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[ovr >= thresh]] = True
    return np.where(~suppressed)[0]


# ------------------------------------------ FPN.fpn_rpn_outputs, test mode
def rpn(blobs: List[Tensor], sd: dict, im_info: np.ndarray):
    """Per level (2..6) logits and deltas, and the collected proposals
    ``(R, 5)`` (GenerateProposalsOp + CollectAndDistribute, test mode)."""
    logits, deltas, rois, probs = [], [], [], []
    for lvl in RPN_LEVELS:
        x = blobs[6 - lvl]  # blobs are coarse to fine
        x = F.relu(
            F.conv2d(
                x,
                sd['RPN.FPN_RPN_conv.weight'],
                sd['RPN.FPN_RPN_conv.bias'],
                padding=1))
        cls = F.conv2d(x, sd['RPN.FPN_RPN_cls_score.weight'],
                       sd['RPN.FPN_RPN_cls_score.bias'])
        bbox = F.conv2d(x, sd['RPN.FPN_RPN_bbox_pred.weight'],
                        sd['RPN.FPN_RPN_bbox_pred.bias'])
        logits.append(cls)
        deltas.append(bbox)
        anchors = generate_anchors(2**lvl,
                                   (ANCHOR_START_SIZE * 2.**(lvl - 2), ),
                                   ASPECT_RATIOS)
        r, p = proposals_for_one_image(
            torch.sigmoid(cls)[0].numpy(), bbox[0].numpy(), anchors, 2**lvl,
            im_info)
        rois.append(r)
        probs.append(p)
    rois, probs = np.concatenate(rois), np.concatenate(probs).squeeze(1)
    inds = np.argsort(-probs, kind='stable')[:RPN_POST_NMS_TOP_N]
    rois = np.hstack([np.zeros((len(inds), 1), np.float32), rois[inds]])
    return logits, deltas, rois, probs[inds]


def proposals_for_one_image(scores, bbox_deltas, anchors, stride, im_info):
    height, width = scores.shape[-2:]
    shift_x, shift_y = np.meshgrid(
        np.arange(0, width) * stride,
        np.arange(0, height) * stride)
    shifts = np.vstack((shift_x.ravel(), shift_y.ravel(), shift_x.ravel(),
                        shift_y.ravel())).transpose()
    all_anchors = (anchors[None] + shifts[:, None]).reshape(-1, 4)
    bbox_deltas = bbox_deltas.transpose((1, 2, 0)).reshape((-1, 4))
    scores = scores.transpose((1, 2, 0)).reshape((-1, 1))
    if RPN_PRE_NMS_TOP_N >= len(scores):
        order = np.argsort(-scores.squeeze(), kind='stable')
    else:
        inds = np.argpartition(-scores.squeeze(),
                               RPN_PRE_NMS_TOP_N)[:RPN_PRE_NMS_TOP_N]
        order = inds[np.argsort(-scores[inds].squeeze(), kind='stable')]
    bbox_deltas, all_anchors, scores = (bbox_deltas[order], all_anchors[order],
                                        scores[order])
    proposals = bbox_transform(all_anchors, bbox_deltas, (1.0, 1.0, 1.0, 1.0))
    proposals = clip_tiled_boxes(proposals, im_info[:2])
    # _filter_boxes with RPN_MIN_SIZE 0
    ws = proposals[:, 2] - proposals[:, 0] + 1
    hs = proposals[:, 3] - proposals[:, 1] + 1
    keep = np.where((ws >= 0) & (hs >= 0)
                    & (proposals[:, 0] + ws / 2. < im_info[1])
                    & (proposals[:, 1] + hs / 2. < im_info[0]))[0]
    proposals, scores = proposals[keep], scores[keep]
    keep = nms(np.hstack((proposals, scores)), RPN_NMS_THRESH)
    keep = keep[:RPN_POST_NMS_TOP_N]
    return proposals[keep], scores[keep]


# ------------------------------- modeling/roi_xfrom/roi_align (legacy kernel)
def roi_align(feat: Tensor,
              rois: Tensor,
              spatial_scale: float,
              out: int,
              sampling_ratio: int = 2) -> Tensor:
    """Their RoIAlign CUDA kernel for one image: ``(R, C, out, out)``."""
    c, height, width = feat.shape[1:]
    g = sampling_ratio
    start_w, start_h = rois[:, 1] * spatial_scale, rois[:, 2] * spatial_scale
    end_w, end_h = rois[:, 3] * spatial_scale, rois[:, 4] * spatial_scale
    roi_w = torch.clamp(end_w - start_w, min=1.0)
    roi_h = torch.clamp(end_h - start_h, min=1.0)
    bin_w, bin_h = roi_w / out, roi_h / out
    idx = torch.arange(out * g)
    cell, sub = (idx // g).float(), (idx % g).float()
    ys = start_h[:, None] + cell * bin_h[:, None] + (sub + .5) * \
        bin_h[:, None] / g
    xs = start_w[:, None] + cell * bin_w[:, None] + (sub + .5) * \
        bin_w[:, None] / g

    def axis(v, size):
        valid = (v >= -1.0) & (v <= size)
        v = v.clamp(min=0)
        low = v.long()
        top = low >= size - 1
        low = torch.where(top, torch.full_like(low, size - 1), low)
        high = torch.where(top, low, low + 1)
        v = torch.where(top, low.float(), v)
        frac = v - low
        return valid, low, high, frac, 1. - frac

    vy, yl, yh, ly, hy = axis(ys, height)
    vx, xl, xh, lx, hx = axis(xs, width)
    f = feat[0]

    def at(yi, xi):  # (C, R, Sy, Sx)
        return f[:, yi[:, :, None], xi[:, None, :]]

    val = ((hy[:, :, None] * hx[:, None, :]) * at(yl, xl) +
           (hy[:, :, None] * lx[:, None, :]) * at(yl, xh) +
           (ly[:, :, None] * hx[:, None, :]) * at(yh, xl) +
           (ly[:, :, None] * lx[:, None, :]) * at(yh, xh))
    val = val * (vy[:, :, None] & vx[:, None, :])
    r = rois.shape[0]
    val = val.reshape(c, r, out, g, out, g).sum((3, 5)) / (g * g)
    return val.permute(1, 0, 2, 3).contiguous()


def pool_all_levels(blobs: List[Tensor], rois: np.ndarray,
                    resolution: int) -> List[Tensor]:
    """roi_feature_transform(panet=True): every RoI from levels 2..5;
    ``blobs`` are [N5, N4, N3, N2]."""
    rois = torch.from_numpy(rois.astype(np.float32))
    return [
        roi_align(blobs[5 - lvl], rois, 1. / 2**lvl, resolution)
        for lvl in ROI_LEVELS
    ]


# ------------------------------------------------ fast_rcnn_heads, test mode
def box_head(blobs: List[Tensor], rois: np.ndarray, sd: dict,
             kind: str) -> Dict[str, Tensor]:
    """roi_Xconv1fc_gn_head_panet or roi_2mlp_head_gn_panet, then
    fast_rcnn_outputs: logits (R, 81) and deltas (R, 324)."""
    x = pool_all_levels(blobs, rois, 7)
    n = x[0].size(0)
    if kind == '4conv1fc':
        x = [
            conv_gn(xi, sd, f'Box_Head.conv1_head.{i}', relu=True)
            for i, xi in enumerate(x)
        ]
        x = stacked_conv_gn(torch.stack(x).amax(0), sd, 'Box_Head.convs', 3)
        x = F.relu(
            F.linear(
                x.reshape(n, -1), sd['Box_Head.fc.weight'],
                sd['Box_Head.fc.bias']))
    else:

        def fc_gn(v, name):
            v = F.linear(v, sd[f'{name}.0.weight'], sd[f'{name}.0.bias'])
            return F.relu(
                F.group_norm(v, GN_GROUPS, sd[f'{name}.1.weight'],
                             sd[f'{name}.1.bias'], GN_EPS))

        x = [
            fc_gn(xi.reshape(n, -1), f'Box_Head.fc1.{i}')
            for i, xi in enumerate(x)
        ]
        x = fc_gn(torch.stack(x).amax(0), 'Box_Head.fc2')
    return dict(
        cls_logits=F.linear(x, sd['Box_Outs.cls_score.weight'],
                            sd['Box_Outs.cls_score.bias']),
        deltas=F.linear(x, sd['Box_Outs.bbox_pred.weight'],
                        sd['Box_Outs.bbox_pred.bias']))


# --------------------------------------- mask_rcnn_heads (..._gn_adp_ff)
def mask_head(blobs: List[Tensor], mask_rois: np.ndarray, sd: dict) -> Tensor:
    """Mask probabilities (R, 81, 28, 28)."""
    x = pool_all_levels(blobs, mask_rois, 14)
    x = [
        conv_gn(xi, sd, f'Mask_Head.mask_conv1.{i}', relu=True)
        for i, xi in enumerate(x)
    ]
    x = stacked_conv_gn(torch.stack(x).amax(0), sd, 'Mask_Head.conv_fcn', 2)
    n = x.size(0)
    x_fcn = F.relu(
        F.conv_transpose2d(
            conv_gn(x, sd, 'Mask_Head.mask_conv4', relu=True),
            sd['Mask_Head.upconv.weight'],
            sd['Mask_Head.upconv.bias'],
            stride=2))
    x_ff = conv_gn(x, sd, 'Mask_Head.mask_conv4_fc', relu=True)
    x_ff = conv_gn(x_ff, sd, 'Mask_Head.mask_conv5_fc', relu=True)
    x_ff = F.relu(
        F.linear(
            x_ff.reshape(n, -1), sd['Mask_Head.mask_fc.0.weight'],
            sd['Mask_Head.mask_fc.0.bias']))
    logits = F.conv2d(x_fcn, sd['Mask_Outs.classify.weight'],
                      sd['Mask_Outs.classify.bias'])
    x_ff = x_ff.view(-1, 1, RESOLUTION,
                     RESOLUTION).repeat(1, NUM_CLASSES, 1, 1)
    return torch.sigmoid(logits + x_ff)


# ------------------------------------------------------------ lib/core/test
def box_results_with_nms_and_limit(scores, boxes):
    cls_boxes = [[] for _ in range(NUM_CLASSES)]
    for j in range(1, NUM_CLASSES):
        inds = np.where(scores[:, j] > SCORE_THRESH)[0]
        dets_j = np.hstack(
            (boxes[inds, j * 4:(j + 1) * 4], scores[inds, j][:, None])).astype(
                np.float32, copy=False)
        cls_boxes[j] = dets_j[nms(dets_j, NMS), :]
    image_scores = np.hstack([cls_boxes[j][:, -1] for j in range(1, 81)])
    if len(image_scores) > DETECTIONS_PER_IM:
        image_thresh = np.sort(image_scores)[-DETECTIONS_PER_IM]
        for j in range(1, NUM_CLASSES):
            keep = np.where(cls_boxes[j][:, -1] >= image_thresh)[0]
            cls_boxes[j] = cls_boxes[j][keep, :]
    im_results = np.vstack([cls_boxes[j] for j in range(1, NUM_CLASSES)])
    return im_results[:, -1], im_results[:, :-1], cls_boxes


def segm_results(cls_boxes, masks, ref_boxes, im_h, im_w):
    """Binary masks (their RLE before encoding), in cls_boxes order."""
    M = RESOLUTION
    scale = (M + 2.0) / M
    w_half = (ref_boxes[:, 2] - ref_boxes[:, 0]) * .5
    h_half = (ref_boxes[:, 3] - ref_boxes[:, 1]) * .5
    x_c = (ref_boxes[:, 2] + ref_boxes[:, 0]) * .5
    y_c = (ref_boxes[:, 3] + ref_boxes[:, 1]) * .5
    w_half *= scale
    h_half *= scale
    exp = np.zeros(ref_boxes.shape)
    exp[:, 0], exp[:, 2] = x_c - w_half, x_c + w_half
    exp[:, 1], exp[:, 3] = y_c - h_half, y_c + h_half
    ref_boxes = exp.astype(np.int32)
    padded_mask = np.zeros((M + 2, M + 2), dtype=np.float32)
    out, mask_ind = [], 0
    for j in range(1, NUM_CLASSES):
        for _ in range(cls_boxes[j].shape[0]):
            padded_mask[1:-1, 1:-1] = masks[mask_ind, j, :, :]
            ref_box = ref_boxes[mask_ind, :]
            w = max(ref_box[2] - ref_box[0] + 1, 1)
            h = max(ref_box[3] - ref_box[1] + 1, 1)
            mask = cv2.resize(padded_mask, (w, h))
            mask = np.array(mask > THRESH_BINARIZE, dtype=np.uint8)
            im_mask = np.zeros((im_h, im_w), dtype=np.uint8)
            x_0, x_1 = max(ref_box[0], 0), min(ref_box[2] + 1, im_w)
            y_0, y_1 = max(ref_box[1], 0), min(ref_box[3] + 1, im_h)
            im_mask[y_0:y_1,
                    x_0:x_1] = mask[(y_0 - ref_box[1]):(y_1 - ref_box[1]),
                                    (x_0 - ref_box[0]):(x_1 - ref_box[0])]
            out.append(im_mask)
            mask_ind += 1
    return out


def im_detect_all(sd: dict, im: np.ndarray, test_scale: int, max_size: int,
                  kind: str, with_mask: bool) -> dict:
    """Every stage of their test pass on one BGR image."""
    blob, im_scale, im_info = get_image_blob(im, test_scale, max_size)
    out = dict(blob=blob, im_scale=im_scale)
    with torch.no_grad():
        out['c'] = resnet50(blob, sd)
        blobs = fpn_bup(out['c'], sd)
        out['n'] = blobs
        out['rpn_logits'], out['rpn_deltas'], rois, out['rpn_scores'] = rpn(
            blobs, sd, im_info)
        out['rois'] = rois
        head = box_head(blobs[1:], rois, sd, kind)
    out.update(head)
    scores = F.softmax(head['cls_logits'], dim=1).numpy()
    boxes = rois[:, 1:5] / im_scale
    pred_boxes = bbox_transform(boxes, head['deltas'].numpy(),
                                BBOX_REG_WEIGHTS)
    pred_boxes = clip_tiled_boxes(pred_boxes, im.shape)
    det_scores, det_boxes, cls_boxes = box_results_with_nms_and_limit(
        scores, pred_boxes)
    out['det_scores'], out['det_boxes'] = det_scores, det_boxes
    out['det_labels'] = np.concatenate(
        [np.full(len(cls_boxes[j]), j) for j in range(1, NUM_CLASSES)])
    if with_mask and len(det_boxes):
        mask_rois = np.hstack([
            np.zeros((len(det_boxes), 1)),
            det_boxes.astype(np.float64) * im_scale
        ]).astype(np.float32)
        out['mask_rois'] = mask_rois
        with torch.no_grad():
            out['mask_probs'] = mask_head(blobs[1:], mask_rois, sd)
        out['masks'] = segm_results(cls_boxes, out['mask_probs'].numpy(),
                                    det_boxes, im.shape[0], im.shape[1])
    return out
