# Copyright (c) mmpanet contributors. All rights reserved.
"""Cityscapes gtFine polygons -> the COCO-style json the Cityscapes configs
read (``annotations/instancesonly_filtered_gtFine_{split}.json``).

Each ``{city}/{frame}_gtFine_polygons.json`` is drawn into an instance-id
image by cityscapesscripts (``createInstanceImage``: later polygons occlude
earlier ones, as the official ``*_gtFine_instanceIds.png``), so every
instance's mask is the pixels it owns. Kept are the 8 classes that have
instances and count in the evaluation (mmdet's ``CityscapesDataset``
classes, category ids = Cityscapes label ids 24..33); ``caravan`` and
``trailer`` are dropped, as the official evaluation ignores them. Polygons
labelled ``{class}group`` (several objects the annotators could not
separate) become crowd regions (``iscrowd=1``: not trained on, ignored by
the COCO evaluation). Masks are stored as COCO RLE.
"""
import functools
import glob
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmdet.datasets import CityscapesDataset

from .coco_format import annotations_from_id_map, convert_all, write_coco

SPLITS = ('train', 'val', 'test')
POLYGONS_SUFFIX = '_gtFine_polygons.json'
IMAGE_SUFFIX = '_leftImg8bit.png'


def _cityscapesscripts():
    """cityscapesscripts' label table, ``Annotation`` and
    ``createInstanceImage``, or a clear error when it is not installed."""
    try:
        from cityscapesscripts.helpers import labels
        from cityscapesscripts.helpers.annotation import Annotation
        from cityscapesscripts.preparation.json2instanceImg import \
            createInstanceImage
    except ImportError as e:
        raise ImportError('the Cityscapes converter needs cityscapesscripts: '
                          'pip install cityscapesscripts') from e
    return labels, Annotation, createInstanceImage


@functools.lru_cache()
def categories() -> List[dict]:
    """COCO categories: the Cityscapes labels with instances that count in
    the evaluation, in the order of mmdet's ``CityscapesDataset``."""
    labels = _cityscapesscripts()[0]
    kept = [
        label for label in labels.labels
        if label.hasInstances and not label.ignoreInEval
    ]
    names = tuple(label.name for label in kept)
    classes = CityscapesDataset.METAINFO['classes']
    if sorted(names) != sorted(classes):
        raise RuntimeError(
            f'cityscapesscripts\' instance classes {names} are not '
            f'mmdet CityscapesDataset\'s {classes}')
    return [dict(id=labels.name2label[name].id, name=name) for name in classes]


def annotations_of(polygons_file: str) -> Tuple[dict, List[dict]]:
    """Image entry (without ``id``) and annotations (without ``id`` and
    ``image_id``) of one ``*_gtFine_polygons.json``."""
    _, Annotation, createInstanceImage = _cityscapesscripts()
    annotation = Annotation()
    annotation.fromJsonFile(polygons_file)
    instance_ids = np.asarray(createInstanceImage(annotation, 'ids'))
    city = osp.basename(osp.dirname(polygons_file))
    frame = osp.basename(polygons_file)[:-len(POLYGONS_SUFFIX)]
    image = dict(
        file_name=f'{city}/{frame}{IMAGE_SUFFIX}',
        height=int(annotation.imgHeight),
        width=int(annotation.imgWidth))

    kept_ids = {cat['id'] for cat in categories()}

    def classify(value):
        # ids >= 1000 are single instances (label id * 1000 + index);
        # smaller ids of instance classes are their groups (crowds)
        label_id, crowd = (value // 1000, 0) if value >= 1000 else (value, 1)
        return (label_id, crowd) if label_id in kept_ids else None

    anns = annotations_from_id_map(instance_ids, classify)
    return image, anns


def polygon_files(root: str, split: str) -> List[str]:
    """``gtFine/{split}/*/*_gtFine_polygons.json`` under ``root``, sorted;
    a clear error when the folder or its files are missing."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    split_dir = osp.join(root, 'gtFine', split)
    if not osp.isdir(split_dir):
        raise FileNotFoundError(
            f'{split_dir} not found: the root must hold the official '
            f'gtFine/{split}/<city>/*{POLYGONS_SUFFIX} files '
            '(gtFine_trainvaltest.zip)')
    files = sorted(glob.glob(osp.join(split_dir, '*', '*' + POLYGONS_SUFFIX)))
    if not files:
        raise FileNotFoundError(
            f'no <city>/*{POLYGONS_SUFFIX} files in {split_dir}')
    return files


def convert_split(root: str,
                  split: str,
                  out_file: str,
                  nproc: int = 1) -> Dict[str, int]:
    """Convert one split and write ``out_file`` (atomically: a failed run
    leaves no partial file). Images whose ``leftImg8bit`` file is missing are
    an error. Returns counts of images, instances and crowd regions."""
    files = polygon_files(root, split)
    missing = [
        f for f in files if not osp.isfile(
            osp.join(root, 'leftImg8bit', split, osp.basename(osp.dirname(f)),
                     osp.basename(f)[:-len(POLYGONS_SUFFIX)] + IMAGE_SUFFIX))
    ]
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} of {len(files)} {split} images have no '
            f'leftImg8bit/{split}/<city>/*{IMAGE_SUFFIX} file (first: '
            f'{missing[0]}); unpack leftImg8bit_trainvaltest.zip into {root}')
    results = convert_all(annotations_of, files, nproc)
    return write_coco(results, categories(), out_file)


def convert_cityscapes(root: str,
                       out_dir: str,
                       splits: Sequence[str] = ('train', 'val'),
                       nproc: int = 1) -> Dict[str, str]:
    """Convert ``splits`` of the Cityscapes tree at ``root`` into
    ``out_dir/instancesonly_filtered_gtFine_{split}.json``; returns the
    written file of each split. All splits are checked before any is
    converted."""
    for split in splits:
        polygon_files(root, split)
    written = {}
    for split in splits:
        out_file = osp.join(out_dir,
                            f'instancesonly_filtered_gtFine_{split}.json')
        counts = convert_split(root, split, out_file, nproc)
        print(f'{split}: {counts["images"]} images, {counts["instances"]} '
              f'instances, {counts["crowds"]} crowd regions -> {out_file}')
        written[split] = out_file
    return written
