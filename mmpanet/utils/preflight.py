# Copyright (c) mmpanet contributors. All rights reserved.
"""Check a config's set-up in seconds, before a runner is built.

``tools/train.py`` and ``tools/test.py`` run these checks first (skip them
with ``--skip-preflight``); ``tools/misc/preflight.py`` runs them alone. Each
check returns :class:`Problem` s, each naming the config key or path at fault
and the fix; all of them are reported together:

- data: every annotation file the run reads exists and lists images, every
  image folder exists, and the first few images of each annotation file
  decode;
- annotations: every annotation of those files has a box and, where the
  run reads masks, a usable segmentation (named by file and annotation id);
- pretrained weights: every ``init_cfg`` checkpoint (and ``load_from``) is a
  local file, or already in torch's download cache, or its host answers;
- batch: processes x images per process against the config's
  ``auto_scale_lr.base_batch_size``, with the ``--auto-scale-lr`` advice;
- channels: the backbone, built alone and run on one small image, gives the
  channels that ``model.neck.in_channels`` expects.
"""
import contextlib
import json
import os
import os.path as osp
import re
import socket
import urllib.parse
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config

from .config import ann_path, annotation_files, evaluators, loader_datasets

DATALOADERS = {
    'train': ('train_dataloader', 'val_dataloader'),
    'test': ('test_dataloader', ),
}
EVALUATORS = {'train': ('val_evaluator', ), 'test': ('test_evaluator', )}
HEAD_BYTES = 4 << 20
FILE_NAME = re.compile(r'"file_name"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass
class Problem:
    where: str  # the config key or path at fault
    what: str
    fix: str

    def __str__(self) -> str:
        return f'- {self.where}: {self.what}\n  fix: {self.fix}'


class PreflightError(RuntimeError):
    """Raised by :func:`run_preflight` with every problem found."""

    def __init__(self, config: str, problems: Sequence[Problem]):
        self.problems = list(problems)
        lines = [f'preflight found {len(problems)} problem(s) in {config}:']
        lines += [str(p) for p in problems]
        lines.append('(skip these checks with --skip-preflight)')
        super().__init__('\n'.join(lines))


# ---------------------------------------------------------------- data
def _join(root: Optional[str], path: str) -> str:
    return path if not root or osp.isabs(path) else osp.join(root, path)


def _first_images(ann_path: str, num: int) -> List[str]:
    """File names of the first ``num`` images of a COCO-style file, read
    from its first megabytes only (COCO's train file is 450 MB; the
    dataset parses it in full later)."""
    with open(ann_path, 'rb') as f:
        head = f.read(HEAD_BYTES).decode('utf-8', errors='ignore')
    return FILE_NAME.findall(head)[:num]


def check_data(cfg: Config,
               mode: str = 'train',
               num_images: int = 3) -> List[Problem]:
    """Annotation files, image folders and the first ``num_images`` images
    of every dataset the ``mode`` ('train' or 'test') reads."""
    import mmcv
    problems = []
    hint = ('put the dataset there (e.g. ln -s /path/to/coco data/coco) '
            "or point the dataloaders' data_root elsewhere, see "
            'docs/en/user_guides/data_and_weights.md')
    for key, ds in loader_datasets(cfg, DATALOADERS[mode]):
        root = ds.get('data_root')
        proposals = ds.get('proposal_file')
        if proposals and not osp.isfile(_join(root, proposals)):
            problems.append(
                Problem(
                    f'{key}.proposal_file',
                    f'{_join(root, proposals)} does not exist',
                    'write the separately trained RPN\'s proposals '
                    'first: python tools/misc/dump_proposals.py '
                    'RPN_CONFIG RPN_CHECKPOINT (see "The paper\'s RPN '
                    'protocol" in docs/en/user_guides/reproduce_paper.md)'))
        ann_file = ann_path(ds)
        if not osp.isfile(ann_file):
            problems.append(
                Problem(f'{key}.ann_file', f'{ann_file} does not exist', hint))
            continue
        prefix = ds.get('data_prefix') or {}
        img_dir = _join(root, prefix.get('img', prefix.get('img_path', '')))
        if img_dir and not osp.isdir(img_dir):
            problems.append(
                Problem(f'{key}.data_prefix.img',
                        f'image folder {img_dir} does not exist', hint))
            continue
        names = _first_images(ann_file, num_images)
        if not names:
            problems.append(
                Problem(
                    f'{key}.ann_file', f'{ann_file} lists no images (no '
                    '"file_name" in its first megabytes)',
                    'use the COCO-format annotation file of the dataset'))
            continue
        for name in names:
            path = osp.join(img_dir, name)
            try:
                img = mmcv.imread(path)
            except Exception as e:  # noqa: BLE001 (any decode failure)
                img, reason = None, str(e)
            else:
                reason = 'it does not decode as an image'
            if img is None or img.size == 0:
                if not osp.isfile(path):
                    reason = 'it does not exist'
                problems.append(
                    Problem(f'{key}: image {path}', reason,
                            f'check the images listed in {ann_file}'))
    for key, ev in evaluators(cfg, EVALUATORS[mode]):
        ann = ev.get('ann_file')
        if ann and not osp.isfile(ann):
            problems.append(
                Problem(f'{key}.ann_file', f'{ann} does not exist', hint))
    return problems


@contextlib.contextmanager
def name_bad_annotation_files(cfg: Config):
    """Turn a JSON error raised while reading annotations (pycocotools does
    not say which file) into one that names the malformed file (for runs
    with --skip-preflight, whose annotation check names it first)."""
    try:
        yield
    except json.JSONDecodeError as e:
        for path in annotation_files(cfg):
            if not osp.isfile(path):
                continue
            try:
                with open(path) as f:
                    json.load(f)
            except json.JSONDecodeError as bad:
                raise ValueError(
                    f'malformed annotation file {path}: {bad}') from e
        raise


# ---------------------------------------------------------------- annotations
MAX_LISTED = 5


def _loads_masks(node) -> bool:
    """Whether a pipeline (nested transforms included) loads instance
    masks."""
    if isinstance(node, dict):
        if str(node.get('type', '')).endswith('LoadAnnotations') and \
                node.get('with_mask', False):
            return True
        return any(_loads_masks(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_loads_masks(v) for v in node)
    return False


def annotation_fault(ann: dict, masks: bool) -> Optional[str]:
    """What is wrong with one COCO annotation, or None: a box that is not
    ``[x, y, w, h]``; with ``masks``, no segmentation, or polygons of which
    none has 3 points (mmdet's training drops such an instance,
    pycocotools' evaluation fails on it or reads it as a box)."""
    box = ann.get('bbox')
    if not (isinstance(box, (list, tuple)) and len(box) == 4
            and all(isinstance(v, (int, float)) for v in box)):
        return f'bbox must be [x, y, width, height], got {box!r}'
    if not masks:
        return None
    seg = ann.get('segmentation')
    if not seg:
        return 'it has no segmentation, but the run uses masks'
    if isinstance(seg, dict):
        if not {'counts', 'size'} <= set(seg):
            return 'its RLE segmentation lacks counts or size'
        return None
    if not isinstance(seg, list):
        return f'segmentation must be polygons or RLE, got {type(seg)}'
    if not any(
            isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0
            for p in seg):
        points = [len(p) // 2 if isinstance(p, list) else 0 for p in seg]
        return (f'its polygons have {points} point(s); a polygon needs at '
                'least 3')
    return None


def _mask_datasets(cfg: Config, mode: str) -> Iterator[Tuple[str, str, bool]]:
    """``(config key, annotation file, whether masks are read from it)`` of
    every dataset and evaluator of ``mode``."""
    for key, ds in loader_datasets(cfg, DATALOADERS[mode]):
        yield f'{key}.ann_file', ann_path(ds), _loads_masks(ds.get('pipeline'))
    for key, ev in evaluators(cfg, EVALUATORS[mode]):
        if ev.get('ann_file'):
            metric = ev.get('metric', 'bbox')
            metrics = [metric] if isinstance(metric, str) else metric
            yield f'{key}.ann_file', ev['ann_file'], 'segm' in metrics


def check_annotations(cfg: Config, mode: str = 'train') -> List[Problem]:
    """Every annotation of every COCO-style file the run reads: its box,
    and its mask where masks are read (the pipeline loads them or the
    evaluator scores ``segm``); up to ``MAX_LISTED`` faults per file are
    named, with their annotation ids."""
    files = {}
    for key, path, masks in _mask_datasets(cfg, mode):
        if path.endswith('.json') and osp.isfile(path):
            old = files.get(path, (key, False))
            files[path] = (old[0], old[1] or masks)
    problems = []
    for path, (key, masks) in files.items():
        try:
            with open(path) as f:
                coco = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            problems.append(
                Problem(key, f'malformed annotation file {path}: {e}',
                        'use the COCO-format annotation file of the dataset'))
            continue
        faults = []
        for ann in coco.get('annotations', []) if isinstance(coco,
                                                             dict) else []:
            fault = annotation_fault(ann, masks) if isinstance(
                ann, dict) else 'it is not a JSON object'
            if fault:
                faults.append(f'annotation {ann.get("id")} (image '
                              f'{ann.get("image_id")}): {fault}')
        if faults:
            listed = '; '.join(faults[:MAX_LISTED])
            more = len(faults) - MAX_LISTED
            problems.append(
                Problem(
                    f'{key}: {path}', f'{len(faults)} bad annotation(s): '
                    f'{listed}' + (f'; and {more} more' if more > 0 else ''),
                    'fix or remove these annotations' +
                    (' (or train and test without masks)' if masks else '')))
    return problems


# ---------------------------------------------------------------- weights
def _init_checkpoints(node, key: str) -> Iterator[Tuple[str, str]]:
    """``(config key, checkpoint)`` of every ``type='Pretrained'``
    ``init_cfg`` under ``node``."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        inits = init if isinstance(init, (list, tuple)) else [init]
        for i, item in enumerate(inits):
            if isinstance(item, dict) and item.get('type') == 'Pretrained' \
                    and item.get('checkpoint'):
                sub = 'init_cfg' if len(inits) == 1 else f'init_cfg.{i}'
                yield f'{key}.{sub}.checkpoint', item['checkpoint']
        for name, value in node.items():
            if name != 'init_cfg':
                yield from _init_checkpoints(value, f'{key}.{name}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _init_checkpoints(value, f'{key}.{i}')


def checkpoint_url(checkpoint: str) -> str:
    """Where mmengine reads ``checkpoint`` from: a URL, or a local path
    (itself, or an ``open-mmlab://`` entry under mmengine's home), as its
    checkpoint loaders resolve it (deprecated ``open-mmlab://`` names
    included). Raises ``ImportError`` for ``torchvision://`` without
    torchvision and ``KeyError`` for an unknown model name."""
    from mmengine.runner.checkpoint import (get_mmcls_models,
                                            get_torchvision_models)

    from mmpanet.engine.checkpoint import openmmlab_path
    if checkpoint.startswith(('open-mmlab://', 'openmmlab://')):
        return openmmlab_path(checkpoint)
    for prefix, table in (('torchvision://', get_torchvision_models),
                          ('modelzoo://', get_torchvision_models),
                          ('mmcls://', get_mmcls_models)):
        if checkpoint.startswith(prefix):
            return table()[checkpoint[len(prefix):]]
    return checkpoint


def reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether the host of ``url`` accepts a connection."""
    parts = urllib.parse.urlparse(url)
    port = parts.port or (443 if parts.scheme == 'https' else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout):
            return True
    except OSError:
        return False


def check_weights(cfg: Config, timeout: float = 3.0) -> List[Problem]:
    """Every pretrained checkpoint is local, cached or reachable."""
    problems = []
    found = list(_init_checkpoints(cfg.get('model'), 'model'))
    if cfg.get('load_from'):
        found.append(('load_from', cfg.load_from))
    for key, ckpt in found:
        try:
            url = checkpoint_url(ckpt)
        except ImportError as e:
            problems.append(
                Problem(
                    key, f'{ckpt} needs {e.name}, which is not '
                    'installed', f'pip install {e.name}, or set {key} '
                    'to a local .pth file'))
            continue
        except KeyError:
            problems.append(
                Problem(key, f'{ckpt} names no model mmengine knows',
                        'check the name, or set a local .pth file'))
            continue
        if not url.startswith(('http://', 'https://')):
            if not osp.isfile(url):
                problems.append(
                    Problem(key, f'checkpoint file {url} does not exist',
                            'check the path'))
            continue
        from mmpanet.engine.checkpoint import download_cache
        cached = download_cache(url)
        if osp.isfile(cached) or reachable(url, timeout):
            continue
        problems.append(
            Problem(
                key, f'{ckpt} is not in the download cache ({cached}) and '
                f'{urllib.parse.urlparse(url).hostname} cannot be reached',
                f'download {url} on a machine online and copy it to '
                f'{cached}, the folder torch reads ($TORCH_HOME/hub/'
                f'checkpoints), or set {key} to a local .pth file'))
    return problems


# ---------------------------------------------------------------- batch
def check_batch(cfg: Config, world_size: int,
                auto_scale_lr: bool) -> List[Problem]:
    """Processes x images per process against the config's batch."""
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    per_process = (cfg.get('train_dataloader') or {}).get('batch_size')
    if not base or not per_process:
        return []
    total = world_size * per_process
    enabled = auto_scale_lr or cfg.auto_scale_lr.get('enable', False)
    if total == base or enabled:
        return []
    return [
        Problem(
            'train_dataloader.batch_size', f'{world_size} process(es) x '
            f'{per_process} images = {total} images per iteration, but '
            f'the schedule is set for {base} '
            '(auto_scale_lr.base_batch_size)',
            f'add --auto-scale-lr to scale the lr by {total}/{base}, or run '
            f'{base // per_process if base % per_process == 0 else "more"}'
            ' processes')
    ]


# ---------------------------------------------------------------- channels
def backbone_channels(cfg: Config) -> List[int]:
    """Channels of each output of ``cfg.model.backbone``, built alone (no
    pretrained weights) and run on one 64x64 image."""
    import copy

    import torch
    from mmdet.registry import MODELS
    backbone_cfg = copy.deepcopy(cfg.model.backbone)
    backbone_cfg.pop('init_cfg', None)
    backbone = MODELS.build(backbone_cfg)
    backbone.eval()  # mmdet's ResNet.train() returns None
    with torch.no_grad():
        outs = backbone(torch.zeros(1, 3, 64, 64))
    return [int(o.shape[1]) for o in outs]


def check_channels(cfg: Config) -> List[Problem]:
    """``model.neck.in_channels`` against what the backbone gives."""
    model = cfg.get('model') or {}
    neck = model.get('neck')
    if not isinstance(neck, dict) or 'in_channels' not in neck or \
            not isinstance(model.get('backbone'), dict):
        return []
    expected = neck['in_channels']
    try:
        given = backbone_channels(cfg)
    except Exception as e:  # noqa: BLE001 (reported, not raised)
        return [
            Problem('model.backbone', f'cannot be built and run ({e})',
                    'check the backbone settings')
        ]
    start = neck.get('start_level', 0)
    if isinstance(expected, int):
        ok = all(c == expected for c in given[start:])
    else:
        expected = list(expected)
        ok = expected == given
    if ok:
        return []
    return [
        Problem(
            'model.neck.in_channels',
            f'is {expected} but the backbone ({model.backbone.get("type")})'
            f' gives {given} channels', f'set model.neck.in_channels={given}')
    ]


# ---------------------------------------------------------------- all
def run_preflight(cfg: Config,
                  mode: str = 'train',
                  world_size: int = 1,
                  auto_scale_lr: bool = False,
                  checkpoint: Optional[str] = None,
                  timeout: float = 3.0) -> None:
    """Run every check for ``mode`` ('train' or 'test'); raise
    :class:`PreflightError` listing every problem found."""
    if mode not in DATALOADERS:
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    problems = check_data(cfg, mode)
    problems += check_annotations(cfg, mode)
    if mode == 'train':
        problems += check_weights(cfg, timeout)
        problems += check_batch(cfg, world_size, auto_scale_lr)
    elif checkpoint is not None and not osp.isfile(checkpoint):
        problems.append(
            Problem('checkpoint', f'{checkpoint} does not exist',
                    'check the path'))
    problems += check_channels(cfg)
    if problems:
        raise PreflightError(cfg.filename or 'the config', problems)


def world_size_from_env() -> int:
    """``WORLD_SIZE`` as set by torchrun / slurm launchers, else 1."""
    return int(os.environ.get('WORLD_SIZE', os.environ.get('SLURM_NTASKS', 1)))


__all__ = [
    'Problem', 'PreflightError', 'run_preflight', 'check_data',
    'check_annotations', 'check_weights', 'check_batch', 'check_channels',
    'world_size_from_env'
]
