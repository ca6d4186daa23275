# Copyright (c) mmpanet contributors. All rights reserved.
"""Mapillary Vistas (MVD) v1.2 instance annotations -> the COCO-style json
the MVD configs read (``annotations/instances_{split}.json``).

MVD ships, per split (``training``, ``validation``), ``images/<key>.jpg``
and ``instances/<key>.png``: 16-bit maps whose pixel value is ``label *
256 + instance``, ``label`` indexing the ``labels`` of the dataset's
``config.json``. Each value whose label has instances becomes one
annotation (its pixels the mask, COCO RLE); category ids are those label
indices. v1.2 has 37 classes with instances (``INSTANCE_CLASSES``, the
configs' classes); a ``config.json`` that differs is an error.
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import mmcv

from .coco_format import annotations_from_id_map, convert_all, write_coco

SPLITS = ('training', 'validation')
INSTANCE_CLASSES = ('Bird', 'Ground Animal', 'Crosswalk - Plain', 'Person',
                    'Bicyclist', 'Motorcyclist', 'Other Rider',
                    'Lane Marking - Crosswalk', 'Banner', 'Bench', 'Bike Rack',
                    'Billboard', 'Catch Basin', 'CCTV Camera', 'Fire Hydrant',
                    'Junction Box', 'Mailbox', 'Manhole', 'Phone Booth',
                    'Street Light', 'Pole', 'Traffic Sign Frame',
                    'Utility Pole', 'Traffic Light', 'Traffic Sign (Back)',
                    'Traffic Sign (Front)', 'Trash Can', 'Bicycle', 'Boat',
                    'Bus', 'Car', 'Caravan', 'Motorcycle', 'Other Vehicle',
                    'Trailer', 'Truck', 'Wheeled Slow')


def categories(config_file: str) -> List[dict]:
    """COCO categories (id = label index, name = readable name) of the
    labels with instances in MVD's ``config.json``."""
    if not osp.isfile(config_file):
        raise FileNotFoundError(
            f'{config_file} not found: the MVD root holds config.json (v1.2; '
            'for the v2.0 download, pass its config_v1.2.json)')
    with open(config_file) as f:
        labels = json.load(f)['labels']
    cats = [
        dict(id=i, name=label['readable']) for i, label in enumerate(labels)
        if label.get('instances')
    ]
    names = tuple(c['name'] for c in cats)
    if names != INSTANCE_CLASSES:
        raise ValueError(
            f'{config_file} has instance classes {names}, not the '
            f'{len(INSTANCE_CLASSES)} of MVD v1.2 that the configs use')
    return cats


def annotations_of(item: Tuple[str, str, frozenset]) -> Tuple[dict, list]:
    """Image entry and annotations of one ``(image, instance map, ids of
    instance labels)``."""
    image_file, instance_file, instance_labels = item
    id_map = mmcv.imread(instance_file, flag='unchanged')
    if id_map is None or id_map.ndim != 2:
        raise ValueError(f'{instance_file} is not a single-channel 16-bit '
                         'instance map')
    height, width = id_map.shape

    def classify(value):
        label = value // 256
        return (label, 0) if label in instance_labels else None

    image = dict(
        file_name=osp.basename(image_file), height=height, width=width)
    return image, annotations_from_id_map(id_map, classify)


def convert_split(root: str,
                  split: str,
                  out_file: str,
                  config_file: str = None,
                  nproc: int = 1) -> Dict[str, int]:
    """Convert ``root/{split}`` into ``out_file`` (atomically)."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    cats = categories(config_file or osp.join(root, 'config.json'))
    instance_dir = osp.join(root, split, 'instances')
    maps = sorted(glob.glob(osp.join(instance_dir, '*.png')))
    if not maps:
        raise FileNotFoundError(f'no instance maps ({instance_dir}/*.png)')
    items = []
    for instance_file in maps:
        key = osp.splitext(osp.basename(instance_file))[0]
        image_file = osp.join(root, split, 'images', key + '.jpg')
        if not osp.isfile(image_file):
            raise FileNotFoundError(f'{image_file} not found (the image of '
                                    f'{instance_file})')
        items.append(
            (image_file, instance_file, frozenset(c['id'] for c in cats)))
    return write_coco(
        convert_all(annotations_of, items, nproc), cats, out_file)


def convert_mapillary_vistas(root: str,
                             out_dir: str,
                             splits: Sequence[str] = SPLITS,
                             config_file: str = None,
                             nproc: int = 1) -> Dict[str, str]:
    """Convert ``splits`` into ``out_dir/instances_{split}.json``."""
    written = {}
    for split in splits:
        out_file = osp.join(out_dir, f'instances_{split}.json')
        counts = convert_split(root, split, out_file, config_file, nproc)
        print(f'{split}: {counts["images"]} images, {counts["instances"]} '
              f'instances -> {out_file}')
        written[split] = out_file
    return written
