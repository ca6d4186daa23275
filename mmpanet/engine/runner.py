# Copyright (c) mmpanet contributors. All rights reserved.
import atexit
import os
import os.path as osp
import random

import numpy as np
import torch
import torch.distributed as dist
from mmdet.registry import RUNNERS
from mmengine.dist import (all_gather_object, get_rank, get_world_size,
                           is_main_process)
from mmengine.logging import print_log
from mmengine.runner import Runner

RANDOM_STATES = 'random_states'


def _destroy_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class EmptyTrainingSetError(ValueError):
    """The training set has nothing to train on after filtering."""


def _image_datasets(dataset) -> list:
    """The datasets inside wrappers (``RepeatDataset``, ``ConcatDataset``,
    ...) that read images."""
    if hasattr(dataset, 'datasets'):
        return [d for ds in dataset.datasets for d in _image_datasets(ds)]
    if hasattr(dataset, 'dataset'):
        return _image_datasets(dataset.dataset)
    return [dataset]


def _dropped_annotations(dataset) -> str:
    """Why the annotations of a COCO-style ``dataset`` were dropped, by
    mmdet's ``CocoDataset.parse_data_info`` rules, counted from its file."""
    import json
    with open(dataset.ann_file) as f:
        anns = json.load(f).get('annotations', [])
    reasons = dict(thin=0, crowd=0, other=0)
    for ann in anns:
        w, h = ann.get('bbox', (0, 0, 0, 0))[2:]
        if w < 1 or h < 1 or ann.get('area', 1) <= 0:
            reasons['thin'] += 1
        elif ann.get('iscrowd') or ann.get('ignore'):
            reasons['crowd'] += 1
        else:
            reasons['other'] += 1
    return (f'{len(anns)} annotation(s): {reasons["thin"]} with a box less '
            f'than 1 pixel wide or high (or area <= 0), {reasons["crowd"]} '
            f'crowd or ignored, {reasons["other"]} outside the image or of '
            'other classes')


def check_training_set(dataset) -> None:
    """Raise :class:`EmptyTrainingSetError` when ``dataset`` has no image,
    or none of its images has an instance to train on (mmdet's
    ``CocoDataset`` drops annotations whose box is thinner than a pixel, of
    zero area, crowd or ignored, and keeps their images)."""
    for ds in _image_datasets(dataset):
        ann_file = getattr(ds, 'ann_file', '') or type(ds).__name__
        if len(ds) == 0:
            raise EmptyTrainingSetError(
                f'the training set {ann_file} has no image left after '
                f'filtering (filter_cfg={getattr(ds, "filter_cfg", None)}): '
                'check the annotation file and the filter settings')
        if not hasattr(ds, 'get_data_info') or 'instances' not in \
                ds.get_data_info(0):
            continue
        if any(not inst.get('ignore_flag', 0) for i in range(len(ds))
               for inst in ds.get_data_info(i)['instances']):
            continue
        detail = ''
        if str(ann_file).endswith('.json'):
            detail = ' The file has ' + _dropped_annotations(ds) + '.'
        raise EmptyTrainingSetError(
            f'the training set {ann_file} has {len(ds)} image(s) but no '
            'instance to train on: the dataset drops annotations whose box '
            'is less than 1 pixel wide or high, of zero area, crowd or '
            f'ignored.{detail} Fix the annotations (boxes are [x, y, width, '
            'height] in pixels)')


def random_state() -> dict:
    """This process's python, numpy and torch (CPU, CUDA) random states."""
    return dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state(),
        cuda=torch.cuda.get_rng_state() if torch.cuda.is_available() else None)


def set_random_state(state: dict) -> None:
    """Restore a state returned by :func:`random_state`."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if state['cuda'] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'])


def drop_unsafe_entries(checkpoint: dict, work_dir: str) -> dict:
    """``checkpoint`` without what mmengine would run or delete on resume:
    ``meta['config']`` (``Runner.resume`` passes it to
    ``Config.fromstring``, which executes it), ``best_ckpt*`` paths that are
    not a ``best_*`` file directly in ``work_dir`` (``CheckpointHook``
    deletes the previous best) and ``keep_ckpt_ids`` that are not
    iteration numbers (it deletes ``filename_tmpl.format(id)``)."""
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and meta.pop('config', None) is not None:
        print_log(
            "ignored the checkpoint's meta['config'] (not evaluated)",
            logger='current')
    info = (checkpoint.get('message_hub') or {}).get('runtime_info')
    if not isinstance(info, dict):
        return checkpoint
    here = osp.realpath(work_dir)
    for key in [k for k in info if k.startswith('best_ckpt')]:
        path = info[key]
        if not (isinstance(path, str)
                and osp.basename(path).startswith('best_')
                and osp.dirname(osp.realpath(path)) == here):
            del info[key]
            print_log(
                f'ignored the checkpoint\'s {key}={path!r}: not a best_* '
                f'checkpoint of {work_dir}, so never deleted',
                logger='current')
    ids = info.get('keep_ckpt_ids')
    if ids is not None and not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids):
        del info['keep_ckpt_ids']
        print_log(
            f"ignored the checkpoint's keep_ckpt_ids={ids!r}: not "
            'iteration numbers',
            logger='current')
    return checkpoint


@RUNNERS.register_module()
class PANetRunner(Runner):
    """mmengine's ``Runner`` with what long multi-process runs need.

    - **Exact resume.** Every checkpoint holds the random states of every
      process (gathered here, in the save path, which ``CheckpointHook``
      enters on every rank), in the message hub's ``random_states``;
      :meth:`resume` restores them, so a resumed run draws the same RPN / RoI
      samples as an uninterrupted one. Data augmentation runs in the
      dataloader workers, which mmengine seeds per worker: keep
      ``num_workers >= 1`` for exact resumption.
    - **Atomic checkpoints.** A checkpoint is written to a temporary file and
      renamed into place (``os.replace``, atomic on POSIX), so a kill during a
      save never leaves a truncated file under a checkpoint's name, and
      ``last_checkpoint`` (written by ``CheckpointHook`` after the save)
      only ever points to a complete file.
    - **Multi-process CPU runs** (``--launcher pytorch`` without GPUs) start
      their ``gloo`` process group (:meth:`setup_env`).
    - **A training set with nothing to train on stops the run** before the
      first iteration (:func:`check_training_set`).
    - **Nothing from a checkpoint is run or used as a path.** Checkpoints
      load without unpickling code (:mod:`mmpanet.engine.checkpoint`);
      :meth:`load_checkpoint` drops a stored ``meta['config']`` (Python code
      that ``Runner.resume`` would evaluate) and the message hub's
      checkpoint paths and ids that ``CheckpointHook`` would delete unless
      they name files of this work dir (see :func:`drop_unsafe_entries`).

    Configs select it with ``runner_type = 'PANetRunner'`` (in
    ``configs/_base_/panet_runtime.py``).
    """

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        # a collective call: every rank is here, only rank 0 writes
        self.message_hub.update_info(RANDOM_STATES,
                                     all_gather_object(random_state()))
        tmp_name = f'.{filename}.tmp'
        super().save_checkpoint(out_dir, tmp_name, *args, **kwargs)
        if not is_main_process():
            return
        tmp_path = osp.join(out_dir, tmp_name)
        if not osp.isfile(tmp_path):  # a remote backend: written as is
            return
        with open(tmp_path, 'rb+') as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, osp.join(out_dir, filename))

    def setup_env(self, env_cfg: dict) -> None:
        """mmengine's, and on a machine without GPUs, ``--launcher
        pytorch`` starts a ``gloo`` process group first (mmengine's
        ``init_dist`` calls ``torch.cuda.set_device``), destroyed at exit
        (gloo aborts at interpreter exit otherwise)."""
        if self.distributed and not dist.is_initialized() and \
                self.launcher == 'pytorch' and not torch.cuda.is_available():
            backend = (env_cfg.get('dist_cfg') or {}).get('backend', 'gloo')
            if backend != 'gloo':
                raise ValueError(f"env_cfg.dist_cfg.backend is '{backend}', "
                                 "but there is no GPU: use 'gloo' on CPU")
            dist.init_process_group(backend='gloo')
            atexit.register(_destroy_process_group)
        super().setup_env(env_cfg)

    def build_train_loop(self, loop):
        """mmengine's train loop, after :func:`check_training_set` on its
        dataset (an empty one would make the loop spin or train on
        nothing)."""
        loop = super().build_train_loop(loop)
        check_training_set(loop.dataloader.dataset)
        return loop

    def load_checkpoint(self, filename: str, *args, **kwargs) -> dict:
        checkpoint = super().load_checkpoint(filename, *args, **kwargs)
        return drop_unsafe_entries(checkpoint, self.work_dir)

    def resume(self, *args, **kwargs) -> None:
        super().resume(*args, **kwargs)
        states = self.message_hub.get_info(RANDOM_STATES)
        if not states:
            return
        if len(states) != get_world_size():
            print_log(
                f'random states were saved by {len(states)} processes and '
                f'this run has {get_world_size()}: not restored',
                logger='current')
            return
        set_random_state(states[get_rank()])
