# Copyright (c) mmpanet contributors. All rights reserved.
"""What the dataset converters share: instances from an instance-id map as
COCO RLE annotations, conversion with progress, and the COCO-style file
written atomically."""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_util
from mmengine.utils import track_parallel_progress, track_progress

# id-map value -> (category id, iscrowd), or None to skip it
Classify = Callable[[int], Optional[Tuple[int, int]]]


def annotations_from_id_map(id_map: np.ndarray,
                            classify: Classify) -> List[dict]:
    """One annotation (``category_id``, ``iscrowd``, RLE ``segmentation``,
    ``area``, ``bbox``) per value of ``id_map`` ``(H, W)`` that
    ``classify`` keeps: its pixels are the instance's mask."""
    anns = []
    for value in np.unique(id_map):
        kept = classify(int(value))
        if kept is None:
            continue
        mask = np.asfortranarray(id_map == value, dtype=np.uint8)
        rle = mask_util.encode(mask)
        rle['counts'] = rle['counts'].decode()
        anns.append(
            dict(
                category_id=int(kept[0]),
                iscrowd=int(kept[1]),
                segmentation=rle,
                area=float(mask_util.area(rle)),
                bbox=[float(v) for v in mask_util.toBbox(rle)]))
    return anns


def convert_all(convert_one: Callable, items: Sequence, nproc: int) -> list:
    """``convert_one`` over ``items`` with a progress bar, in ``nproc``
    processes when more than 1."""
    if nproc > 1:
        return track_parallel_progress(convert_one, list(items), nproc)
    return track_progress(convert_one, list(items))


def write_coco(results: Sequence[Tuple[dict, List[dict]]],
               categories: List[dict], out_file: str) -> Dict[str, int]:
    """Write ``(image, annotations)`` pairs as a COCO-style file (ids given
    here), atomically: a failed run leaves no partial file. Returns counts
    of images, instances and crowd regions."""
    images, anns = [], []
    for image_id, (image, image_anns) in enumerate(results):
        images.append(dict(id=image_id, **image))
        for ann in image_anns:
            anns.append(dict(id=len(anns) + 1, image_id=image_id, **ann))
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    tmp = out_file + '.part'
    with open(tmp, 'w') as f:
        json.dump(
            dict(images=images, annotations=anns, categories=categories), f)
    os.replace(tmp, out_file)
    crowds = sum(ann['iscrowd'] for ann in anns)
    return dict(
        images=len(images), instances=len(anns) - crowds, crowds=crowds)
