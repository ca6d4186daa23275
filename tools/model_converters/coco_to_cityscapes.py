# Copyright (c) mmpanet contributors. All rights reserved.
"""Cut a COCO-trained checkpoint to Cityscapes' 8 classes, to start a
Cityscapes run from it (the paper's Table 8; the config's ``load_from``).

    python tools/model_converters/coco_to_cityscapes.py SRC DST
        [--trust-checkpoint SRC]

Each Cityscapes class takes the box and mask weights of its COCO class
(``rider`` those of ``person``); see ``mmpanet.model_converters
.class_subset``. Only the weights and the new class names are written.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmdet.datasets import CityscapesDataset, CocoDataset

from mmpanet.engine.checkpoint import load
from mmpanet.model_converters import COCO_TO_CITYSCAPES, select_classes
from mmpanet.utils.entrypoint import add_trust_arg, loading_errors_as_exit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='a COCO-trained mmdet checkpoint')
    parser.add_argument('dst', help='where to write the Cityscapes one')
    add_trust_arg(parser)
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        sys.exit(f'error: checkpoint not found: {args.src}')
    with loading_errors_as_exit(args):
        checkpoint = load(args.src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    old = checkpoint.get('meta',
                         {}).get('dataset_meta',
                                 {}).get('classes',
                                         CocoDataset.METAINFO['classes'])
    new = CityscapesDataset.METAINFO['classes']
    try:
        state_dict = select_classes(state_dict, old, new, COCO_TO_CITYSCAPES)
    except (KeyError, ValueError) as e:
        sys.exit(f'error: {e.args[0]}')
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(
        dict(state_dict=state_dict, meta=dict(dataset_meta=dict(classes=new))),
        args.dst)
    print(f'written: {args.dst} ({len(new)} Cityscapes classes from '
          f'{len(old)} COCO classes)')


if __name__ == '__main__':
    main()
