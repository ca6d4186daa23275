# Copyright (c) mmpanet contributors. All rights reserved.
"""The built-in synthetic shapes dataset (mmpanet.datasets)."""
import filecmp
import hashlib
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from mmpanet.datasets import SHAPE_CLASSES, generate_shapes_dataset


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('gen'))
    files = generate_shapes_dataset(
        out, num_train=24, num_val=6, img_size=(128, 160), seed=5)
    return out, files


def test_valid_coco_with_masks_inside_images(dataset):
    out, files = dataset
    for split, num in (('train', 24), ('val', 6)):
        coco = COCO(files[split])
        assert len(coco.getImgIds()) == num
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())
                ] == list(SHAPE_CLASSES)
        for img_id in coco.getImgIds():
            info = coco.loadImgs(img_id)[0]
            img = cv2.imread(osp.join(out, info['file_name']))
            assert img.shape == (info['height'], info['width'], 3)
            owner = np.zeros(img.shape[:2], np.int32)
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=img_id)):
                mask = coco.annToMask(ann)
                assert mask.shape == img.shape[:2]
                assert mask.sum() > 0
                x, y, w, h = ann['bbox']
                assert 0 <= x and 0 <= y
                assert x + w <= info['width'] and y + h <= info['height']
                ys, xs = np.nonzero(mask)
                # the polygon mask lies in the box (1 px for rasterizing)
                assert xs.min() >= x - 1 and xs.max() <= x + w
                assert ys.min() >= y - 1 and ys.max() <= y + h
                # area is the visible mask's; the polygon traces it
                assert abs(mask.sum() - ann['area']) <= 0.35 * ann['area'] + 8
                owner += mask
            # visible parts of occluded shapes do not overlap much
            assert (owner > 1).mean() < 0.02


def test_sizes_classes_and_occlusion(dataset):
    _, files = dataset
    coco = COCO(files['train'])
    anns = coco.loadAnns(coco.getAnnIds())
    areas = np.array([a['area'] for a in anns])
    assert (areas < 16**2).any() and (areas > 48**2).any()
    assert {a['category_id'] for a in anns} == {1, 2, 3, 4}

    # occlusion: the visible part of a convex shape (circle, rectangle,
    # triangle) cut by a later shape is no longer convex
    def convexity(ann):
        pts = np.concatenate([
            np.array(p, np.float32).reshape(-1, 2) for p in ann['segmentation']
        ])
        return ann['area'] / max(cv2.contourArea(cv2.convexHull(pts)), 1.0)

    cut = [a for a in anns if a['category_id'] < 4 and convexity(a) < 0.8]
    assert len(cut) >= 3


def test_deterministic(tmp_path, dataset):
    out, _ = dataset
    again = str(tmp_path / 'again')
    generate_shapes_dataset(
        again, num_train=24, num_val=6, img_size=(128, 160), seed=5)
    for rel in ('annotations/instances_train.json',
                'annotations/instances_val.json', 'train/00007.png',
                'val/00003.png'):
        assert filecmp.cmp(
            osp.join(out, rel), osp.join(again, rel), shallow=False), rel
    other = str(tmp_path / 'other')
    generate_shapes_dataset(
        other, num_train=24, num_val=6, img_size=(128, 160), seed=6)
    assert not filecmp.cmp(
        osp.join(out, 'annotations/instances_train.json'),
        osp.join(other, 'annotations/instances_train.json'),
        shallow=False)
    assert sorted(os.listdir(osp.join(other, 'train')))[0] == '00000.png'


# the first 4 train and 2 val images of the default data (seed 0, 256x256)
# that the docs' figures were measured on: pixels and annotations
DEFAULT_DATA_SHA256 = (
    '321c32e404decc8087bf574c8682610489141093f12c07e8e0e99606a2dd9fb3')


def test_default_data_unchanged(tmp_path):
    """A faster generator must still write the same data: the random
    stream and every pixel and annotation of the default images."""
    files = generate_shapes_dataset(str(tmp_path), num_train=4, num_val=2)
    digest = hashlib.sha256()
    for split in ('train', 'val'):
        with open(files[split]) as f:
            coco = json.load(f)
        digest.update(json.dumps(coco, sort_keys=True).encode())
        for img in coco['images']:
            path = osp.join(str(tmp_path), img['file_name'])
            digest.update(cv2.imread(path).tobytes())
    assert digest.hexdigest() == DEFAULT_DATA_SHA256


@pytest.mark.parametrize('kwargs,match', [
    (dict(num_train=0), 'num_train'),
    (dict(img_size=(16, 64)), 'img_size'),
])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_shapes_dataset(str(tmp_path), **kwargs)
