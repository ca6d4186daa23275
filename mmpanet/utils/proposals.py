# Copyright (c) mmpanet contributors. All rights reserved.
"""The paper's RPN protocol (spec section 4): an RPN trained on its own (its
backbone not shared with the detector) writes its proposals once; the
detector trains and tests on those fixed proposals.

An RPN config (``model.type='RPN'``) is turned into a test run over one split
whose evaluator is mmdet's ``DumpProposals``: every image's proposals, on the
original image, sorted by score, in a ``.pkl`` keyed by ``<folder>/<image>``,
which is what mmdet's datasets read as ``proposal_file`` (with
``LoadProposals`` and ``ProposalBroadcaster`` in the pipelines).
"""
import copy
import os.path as osp
from typing import Optional, Tuple

from mmengine.config import Config

from .config import iter_datasets

SPLITS = ('train', 'val', 'test')
PROPOSALS_DIR = 'proposals'


def split_dataset(cfg: Config, split: str) -> dict:
    """The image dataset of ``{split}_dataloader`` (wrappers removed)."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    key = f'{split}_dataloader.dataset'
    found = list(
        iter_datasets((cfg.get(f'{split}_dataloader') or {}).get('dataset'),
                      key))
    if len(found) != 1:
        raise ValueError(f'{key} must be one dataset with an ann_file, found '
                         f'{len(found)}')
    return found[0][1]


def proposal_file(rpn_config: str, ann_file: str) -> str:
    """Where the proposals of RPN config ``rpn_config`` (a path or name) for
    the images of ``ann_file`` go, relative to the dataset's ``data_root``:
    ``proposals/{rpn config}_{annotation file stem}.pkl``, with COCO's
    ``instances_`` prefix dropped (``..._train2017.pkl``). The configs that
    train on fixed proposals name these files."""
    name = osp.splitext(osp.basename(rpn_config))[0]
    stem = osp.splitext(osp.basename(ann_file))[0]
    if stem.startswith('instances_'):
        stem = stem[len('instances_'):]
    return osp.join(PROPOSALS_DIR, f'{name}_{stem}.pkl')


def dump_proposals_config(
        cfg: Config,
        split: str,
        rpn_config: str,
        out_file: Optional[str] = None,
        num_max_proposals: Optional[int] = None) -> Tuple[Config, str]:
    """``cfg`` (an RPN config) as a test run that writes the proposals of
    ``split``'s images, all of them, through the test pipeline.

    Returns the config and the file it writes: ``out_file``, or
    :func:`proposal_file` under the split's ``data_root``.
    """
    if cfg.model.get('type') != 'RPN':
        raise ValueError(
            f"model.type is {cfg.model.get('type')!r}: proposals come from "
            "an RPN config (model.type='RPN'), whose predictions are "
            'proposals; a detector predicts detections')
    cfg = copy.deepcopy(cfg)
    dataset = copy.deepcopy(split_dataset(cfg, split))
    if out_file is None:
        out_file = osp.join(
            dataset.get('data_root') or '',
            proposal_file(rpn_config, dataset['ann_file']))
    # every image (no filtering, no flips): the detector's dataset looks up
    # each of its images before filtering its own
    dataset.update(
        test_mode=True, pipeline=cfg.test_dataloader.dataset.pipeline)
    dataset.pop('proposal_file', None)
    cfg.test_dataloader = dict(
        cfg.test_dataloader,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dataset)
    cfg.test_evaluator = dict(
        type='DumpProposals',
        output_dir=osp.dirname(out_file),
        proposals_file=osp.basename(out_file),
        num_max_proposals=num_max_proposals)
    return cfg, out_file
