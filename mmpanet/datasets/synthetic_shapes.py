# Copyright (c) mmpanet contributors. All rights reserved.
"""A small, deterministic COCO-format instance-segmentation dataset.

Each image has a noisy, textured background and several filled shapes of
four classes whose sizes span small to large; later shapes occlude earlier
ones (some are placed next to an earlier shape on purpose), and each
annotation is the VISIBLE part of its shape, as polygons traced from the
visible mask; shapes with less than 30% (or 24 px) left visible are not
annotated. Used by the built-in main job and the tests.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

SHAPE_CLASSES = ('circle', 'rectangle', 'triangle', 'star')
_PALETTE = [(220, 20, 60), (0, 130, 200), (60, 180, 75), (245, 130, 48)]
MIN_VISIBLE_AREA = 24
MIN_VISIBLE_FRACTION = 0.3
OVERLAP_PROB = 0.4


def _shape_polygon(cls: str, cx: float, cy: float, r: float,
                   rng: np.random.RandomState) -> np.ndarray:
    """Outline of a shape of radius ``r`` at ``(cx, cy)``, (K, 2) int32."""
    angle = rng.uniform(0, 2 * np.pi)
    if cls == 'circle':
        ry = r * rng.uniform(0.7, 1.0)
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        pts = np.stack([r * np.cos(t), ry * np.sin(t)], 1)
    elif cls == 'rectangle':
        w, h = r, r * rng.uniform(0.4, 1.0)
        pts = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], dtype=float)
    elif cls == 'triangle':
        t = np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
        pts = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    else:  # star
        t = np.linspace(0, 2 * np.pi, 10, endpoint=False)
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
        pts = np.stack([radii * np.cos(t), radii * np.sin(t)], 1)
    rot = np.array([[np.cos(angle), -np.sin(angle)],
                    [np.sin(angle), np.cos(angle)]])
    pts = pts @ rot.T + np.array([cx, cy])
    return np.round(pts).astype(np.int32)


def _background(h: int, w: int, rng: np.random.RandomState) -> np.ndarray:
    """Gradient + stripes + Gaussian noise, uint8 (h, w, 3)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(60, 190, size=3)
    grad = rng.uniform(-40, 40, size=(2, 3))
    freq = rng.uniform(0.05, 0.3)
    stripes = 18 * np.sin(freq * (xx * rng.uniform(-1, 1) + yy))[..., None]
    img = (
        base + grad[0] * (xx / w)[..., None] + grad[1] * (yy / h)[..., None] +
        stripes + rng.normal(0, 12, (h, w, 3)))
    return np.clip(img, 0, 255).astype(np.uint8)


def _make_image(img_size: Tuple[int, int], rng: np.random.RandomState,
                max_objects: int) -> Tuple[np.ndarray, List[Dict]]:
    h, w = img_size
    img = _background(h, w, rng)
    num = rng.randint(2, max_objects + 1)
    owner = np.full((h, w), -1, dtype=np.int32)
    shapes, placed = [], []
    for k in range(num):
        label = rng.randint(len(SHAPE_CLASSES))
        # log-uniform radius: small (~5 px) to large (~40% of the image)
        r = float(np.exp(rng.uniform(np.log(5), np.log(0.4 * min(h, w)))))
        if placed and rng.uniform() < OVERLAP_PROB:
            # next to an earlier shape, so that one occludes the other
            px, py, pr = placed[rng.randint(len(placed))]
            cx, cy = px + rng.uniform(-pr, pr), py + rng.uniform(-pr, pr)
        else:
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        placed.append((cx, cy, r))
        poly = _shape_polygon(SHAPE_CLASSES[label], cx, cy, r, rng)
        filled = np.zeros((h, w), np.uint8)
        cv2.fillPoly(filled, [poly], 1)
        inside = filled.view(bool)
        color = np.array(_PALETTE[label], np.float32) + rng.uniform(
            -35, 35, size=3)
        # drawn for the whole image (the random stream, hence the data, stays
        # the same), painted only where the shape is
        texture = rng.normal(0, 10, size=(h, w, 3))
        img[inside] = np.clip(color + texture[inside], 0, 255).astype(np.uint8)
        owner[inside] = k
        shapes.append((label, int(np.count_nonzero(inside))))
    objects = []
    for k, (label, full_area) in enumerate(shapes):
        visible = (owner == k).astype(np.uint8)
        if visible.sum() < max(MIN_VISIBLE_AREA,
                               MIN_VISIBLE_FRACTION * full_area):
            continue  # hidden or a sliver: not annotated (as in COCO)
        contours, _ = cv2.findContours(visible, cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        polys = [
            c.reshape(-1).astype(float).tolist() for c in contours
            if len(c) >= 3
        ]
        if not polys:
            continue
        ys, xs = np.nonzero(visible)
        x0, y0 = float(xs.min()), float(ys.min())
        bw, bh = float(xs.max() - x0 + 1), float(ys.max() - y0 + 1)
        objects.append(
            dict(
                category_id=label + 1,
                segmentation=polys,
                area=float(visible.sum()),
                bbox=[x0, y0, bw, bh],
                iscrowd=0))
    return img, objects


def generate_shapes_dataset(out_dir: str,
                            num_train: int = 400,
                            num_val: int = 50,
                            img_size: Tuple[int, int] = (256, 256),
                            max_objects: int = 6,
                            seed: int = 0) -> Dict[str, str]:
    """Write ``out_dir/{train,val}/*.png`` and
    ``out_dir/annotations/instances_{train,val}.json``.

    The same arguments always give the same files. Returns the paths of the
    two annotation files.
    """
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be >= 1, got '
                         f'{num_train} and {num_val}')
    if min(img_size) < 32:
        raise ValueError(f'img_size must be at least 32x32, got {img_size}')
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    categories = [
        dict(id=i + 1, name=name) for i, name in enumerate(SHAPE_CLASSES)
    ]
    ann_files = {}
    for split, num, split_seed in (('train', num_train, seed), ('val', num_val,
                                                                seed + 10007)):
        rng = np.random.RandomState(split_seed)
        os.makedirs(osp.join(out_dir, split), exist_ok=True)
        images, annotations = [], []
        for i in range(num):
            img, objects = _make_image(img_size, rng, max_objects)
            file_name = f'{split}/{i:05d}.png'
            cv2.imwrite(osp.join(out_dir, file_name), img)
            images.append(
                dict(
                    id=i + 1,
                    file_name=file_name,
                    height=img_size[0],
                    width=img_size[1]))
            for obj in objects:
                annotations.append(
                    dict(id=len(annotations) + 1, image_id=i + 1, **obj))
        ann_file = osp.join(out_dir, 'annotations', f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(
                dict(
                    images=images,
                    annotations=annotations,
                    categories=categories), f)
        ann_files[split] = ann_file
    return ann_files
