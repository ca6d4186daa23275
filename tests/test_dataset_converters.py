# Copyright (c) mmpanet contributors. All rights reserved.
"""The Cityscapes converter on a tiny Cityscapes tree that the test writes:
two images of one city, polygons that occlude each other, a crowd group, an
ignored class and a stuff class."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pycocotools.mask as mask_util
import pytest
from mmdet.datasets import CityscapesDataset
from PIL import Image

from mmpanet.dataset_converters.cityscapes import (categories,
                                                   convert_cityscapes)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
H, W = 40, 64


def rect(x1, y1, x2, y2):
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]


# Objects in drawing order (later ones occlude earlier ones). PIL fills a
# polygon with its border pixels, so rect(x1, y1, x2, y2) covers
# (x2 - x1 + 1) x (y2 - y1 + 1) pixels.
FRAMES = {
    'tiny_000000_000019': [
        dict(label='road', polygon=rect(0, 20, 63, 39)),
        dict(label='person', polygon=rect(10, 5, 19, 24)),  # 10 x 20
        dict(label='car', polygon=rect(15, 15, 34, 29)),  # 20 x 15, on top
        dict(label='cargroup', polygon=rect(40, 2, 59, 11)),  # crowd 20 x 10
        dict(label='caravan', polygon=rect(40, 25, 49, 34)),  # ignored
    ],
    'tiny_000001_000019': [
        dict(label='bicycle', polygon=rect(0, 0, 7, 7)),
        dict(label='sky', polygon=rect(30, 0, 63, 9)),
    ],
}


def write_tree(root, split='train', frames=FRAMES, images=True):
    city = 'tiny'
    for frame, objects in frames.items():
        gt_dir = root / 'gtFine' / split / city
        gt_dir.mkdir(parents=True, exist_ok=True)
        (gt_dir / f'{frame}_gtFine_polygons.json').write_text(
            json.dumps(dict(imgHeight=H, imgWidth=W, objects=objects)))
        if images:
            img_dir = root / 'leftImg8bit' / split / city
            img_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.zeros(
                (H, W, 3),
                np.uint8)).save(img_dir / f'{frame}_leftImg8bit.png')


def test_categories_are_mmdet_cityscapes_classes():
    cats = categories()
    assert tuple(c['name'] for c in cats) == \
        CityscapesDataset.METAINFO['classes']
    # Cityscapes label ids; caravan (29) and trailer (30) are not kept
    assert {
        c['name']: c['id']
        for c in cats
    } == dict(
        person=24,
        rider=25,
        car=26,
        truck=27,
        bus=28,
        train=31,
        motorcycle=32,
        bicycle=33)


def test_convert_masks_boxes_crowds(tmp_path):
    write_tree(tmp_path)
    out = convert_cityscapes(
        str(tmp_path), str(tmp_path / 'annotations'), splits=['train'])
    assert out == {
        'train':
        str(tmp_path / 'annotations' /
            'instancesonly_filtered_gtFine_train.json')
    }
    coco = json.load(open(out['train']))
    assert [(i['file_name'], i['height'], i['width']) for i in coco['images']
            ] == [('tiny/tiny_000000_000019_leftImg8bit.png', H, W),
                  ('tiny/tiny_000001_000019_leftImg8bit.png', H, W)]
    names = {c['id']: c['name'] for c in coco['categories']}
    got = sorted((a['image_id'], names[a['category_id']], a['iscrowd'],
                  a['area'], a['bbox']) for a in coco['annotations'])
    assert got == [
        # the person loses the 5 x 10 pixels the car covers
        (0, 'car', 0, 300.0, [15.0, 15.0, 20.0, 15.0]),
        (0, 'car', 1, 200.0, [40.0, 2.0, 20.0, 10.0]),
        (0, 'person', 0, 150.0, [10.0, 5.0, 10.0, 20.0]),
        (1, 'bicycle', 0, 64.0, [0.0, 0.0, 8.0, 8.0]),
    ]
    assert len({a['id'] for a in coco['annotations']}) == 4
    person = next(a for a in coco['annotations'] if a['category_id'] == 24)
    mask = mask_util.decode(person['segmentation'])
    assert mask.shape == (H, W)
    assert mask[5:25, 10:20].sum() == 150 and mask[15:25, 15:20].sum() == 0


def test_converted_json_loads_in_mmdet_dataset(tmp_path):
    write_tree(tmp_path)
    convert_cityscapes(
        str(tmp_path), str(tmp_path / 'annotations'), splits=['train'])
    dataset = CityscapesDataset(
        data_root=str(tmp_path),
        ann_file='annotations/instancesonly_filtered_gtFine_train.json',
        data_prefix=dict(img='leftImg8bit/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(type='PackDetInputs')
        ])
    assert len(dataset) == 2
    sample = dataset[0]['data_samples']
    classes = dataset.metainfo['classes']
    assert sorted(classes[i] for i in sample.gt_instances.labels) == \
        ['car', 'person']
    assert [classes[i] for i in sample.ignored_instances.labels] == ['car']
    assert sample.gt_instances.masks.areas.tolist() == [150.0, 300.0]


def test_missing_tree_and_images_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='gtFine/val'):
        convert_cityscapes(str(tmp_path), str(tmp_path / 'out'), ['val'])
    write_tree(tmp_path, images=False)
    with pytest.raises(FileNotFoundError, match='leftImg8bit'):
        convert_cityscapes(str(tmp_path), str(tmp_path / 'out'), ['train'])
    assert not (tmp_path / 'out').exists()


def test_command(tmp_path):
    write_tree(tmp_path, split='val')
    tool = osp.join(ROOT, 'tools', 'dataset_converters', 'cityscapes.py')
    done = subprocess.run(
        [sys.executable, tool,
         str(tmp_path), '--splits', 'val'],
        capture_output=True,
        text=True)
    assert done.returncode == 0, done.stderr
    assert 'val: 2 images, 3 instances, 1 crowd regions' in done.stdout
    assert (tmp_path / 'annotations' /
            'instancesonly_filtered_gtFine_val.json').is_file()
    bad = subprocess.run(
        [sys.executable, tool, str(tmp_path / 'nope')],
        capture_output=True,
        text=True)
    assert bad.returncode == 1
    assert 'error:' in bad.stderr and 'gtFine/train' in bad.stderr


# ---------------------------------------------------------------- MVD
def write_mvd(root, split='training'):
    """config.json with a stuff label between the instance classes, and two
    16-bit instance maps (value = label * 256 + instance)."""
    from mmpanet.dataset_converters.mapillary_vistas import INSTANCE_CLASSES
    labels = [dict(readable='Curb', instances=False)] + [
        dict(readable=name, instances=True) for name in INSTANCE_CLASSES
    ]
    (root / 'config.json').write_text(json.dumps(dict(labels=labels)))
    person = 1 + INSTANCE_CLASSES.index('Person')  # label index 4
    car = 1 + INSTANCE_CLASSES.index('Car')
    maps = {
        'key0': [(person * 256 + 0, (2, 3, 12, 8)),
                 (person * 256 + 1, (20, 5, 30, 25)),
                 (car * 256 + 0, (40, 10, 60, 30))],
        'key1': [],
    }
    for key, instances in maps.items():
        id_map = np.zeros((H, W), np.uint16)  # label 0: Curb (stuff)
        for value, (x1, y1, x2, y2) in instances:
            id_map[y1:y2, x1:x2] = value
        (root / split / 'instances').mkdir(parents=True, exist_ok=True)
        (root / split / 'images').mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(
            str(root / split / 'instances' / f'{key}.png'), id_map)
        Image.fromarray(np.zeros(
            (H, W, 3), np.uint8)).save(root / split / 'images' / f'{key}.jpg')
    return person, car


def test_mvd_instance_maps_to_coco(tmp_path):
    from mmdet.datasets import CocoDataset

    from mmpanet.dataset_converters import convert_mapillary_vistas
    person, car = write_mvd(tmp_path)
    out = convert_mapillary_vistas(
        str(tmp_path), str(tmp_path / 'annotations'), splits=['training'])
    coco = json.load(open(out['training']))
    assert len(coco['categories']) == 37
    assert {c['name']: c['id'] for c in coco['categories']}['Car'] == car
    assert [i['file_name'] for i in coco['images']] == ['key0.jpg', 'key1.jpg']
    got = sorted(
        (a['category_id'], a['area'], a['bbox']) for a in coco['annotations'])
    assert got == [(person, 50.0, [2.0, 3.0, 10.0, 5.0]),
                   (person, 200.0, [20.0, 5.0, 10.0, 20.0]),
                   (car, 400.0, [40.0, 10.0, 20.0, 20.0])]
    # what the MVD configs read
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/panet/panet_r50_pafpn-relu_mbn-80k_mvd.py'))
    ds_cfg = cfg.train_dataloader.dataset
    dataset = CocoDataset(
        data_root=str(tmp_path),
        ann_file='annotations/instances_training.json',
        data_prefix=ds_cfg.data_prefix,
        metainfo=ds_cfg.metainfo,
        filter_cfg=ds_cfg.filter_cfg,
        pipeline=[])
    assert len(dataset) == 1  # the image without instances is filtered
    names = [
        dataset.metainfo['classes'][i['bbox_label']]
        for i in dataset[0]['instances']
    ]
    assert sorted(names) == ['Car', 'Person', 'Person']


def test_mvd_errors(tmp_path):
    from mmpanet.dataset_converters import convert_mapillary_vistas
    with pytest.raises(FileNotFoundError, match='config.json'):
        convert_mapillary_vistas(str(tmp_path), str(tmp_path / 'out'))
    write_mvd(tmp_path)
    labels = json.loads((tmp_path / 'config.json').read_text())['labels']
    labels[1]['instances'] = False  # a v2.0-like or edited label set
    (tmp_path / 'config.json').write_text(json.dumps(dict(labels=labels)))
    with pytest.raises(ValueError, match='not the 37 of MVD v1.2'):
        convert_mapillary_vistas(
            str(tmp_path), str(tmp_path / 'out'), ['training'])
    assert not (tmp_path / 'out').exists()
