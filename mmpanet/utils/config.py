# Copyright (c) mmpanet contributors. All rights reserved.
"""Walking a config's datasets and evaluators, and the test-time
augmentation variant of a config. Everything that looks for a config's
annotation files, image datasets or evaluators goes through here."""
import os.path as osp
from typing import Iterator, List, Sequence, Tuple

from mmengine.config import Config, ConfigDict

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATORS = ('val_evaluator', 'test_evaluator')


def iter_datasets(node, key: str) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset cfg)`` of every dataset that reads an
    annotation file (``ann_file``) under ``node``, inside wrappers
    (``RepeatDataset``'s ``dataset``, ``ConcatDataset``'s ``datasets``)
    included. The dicts are the config's own: changing them changes the
    config."""
    if not isinstance(node, dict):
        return
    if node.get('ann_file'):
        yield key, node
    for name in ('dataset', 'datasets'):
        child = node.get(name)
        if isinstance(child, dict):
            yield from iter_datasets(child, f'{key}.{name}')
        elif isinstance(child, (list, tuple)):
            for i, item in enumerate(child):
                yield from iter_datasets(item, f'{key}.{name}.{i}')


def loader_datasets(
        cfg: Config,
        loaders: Sequence[str] = LOADERS) -> Iterator[Tuple[str, dict]]:
    """:func:`iter_datasets` of each of the dataloaders ``loaders``."""
    for loader in loaders:
        yield from iter_datasets((cfg.get(loader) or {}).get('dataset'),
                                 f'{loader}.dataset')


def evaluators(cfg: Config,
               keys: Sequence[str] = EVALUATORS) -> Iterator[Tuple[str, dict]]:
    """``(config key, evaluator cfg)`` of every evaluator under ``keys``
    (a single one or a list)."""
    for key in keys:
        found = cfg.get(key) or []
        found = [found] if isinstance(found, dict) else list(found)
        for i, ev in enumerate(found):
            if isinstance(ev, dict):
                yield (key if len(found) == 1 else f'{key}.{i}'), ev


def ann_path(dataset: dict) -> str:
    """A dataset's annotation file as mmengine's datasets resolve it."""
    root, ann = dataset.get('data_root'), dataset['ann_file']
    return ann if not root or osp.isabs(ann) else osp.join(root, ann)


def annotation_files(cfg: Config) -> List[str]:
    """Every annotation file the config's dataloaders and evaluators
    read, each once."""
    files = [ann_path(ds) for _, ds in loader_datasets(cfg)]
    files += [
        ev['ann_file'] for _, ev in evaluators(cfg) if ev.get('ann_file')
    ]
    return list(dict.fromkeys(files))


def apply_tta(cfg: Config) -> Config:
    """``cfg`` tested with test-time augmentation, mmdet's way:
    ``cfg.model`` wrapped in ``cfg.tta_model`` (``module=cfg.model``) and
    the test images read through ``cfg.tta_pipeline``. Clear errors where
    the config has no TTA or its detector reads fixed proposals (the TTA
    views have none)."""
    missing = [k for k in ('tta_model', 'tta_pipeline') if not cfg.get(k)]
    if missing:
        raise ValueError(
            f'--tta needs {" and ".join(missing)} in the config (see '
            'configs/shapes/panet_r18-w32_pafpn-relu_1100i_shapes.py)')
    if 'rpn_head' in cfg.model and cfg.model.rpn_head is None:
        raise ValueError('--tta: this detector tests on fixed proposals '
                         '(model.rpn_head=None); augmented views have none')
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    for _, dataset in loader_datasets(cfg, ('test_dataloader', )):
        dataset.pipeline = cfg.tta_pipeline
    return cfg
