# Copyright (c) mmpanet contributors. All rights reserved.
import os
import os.path as osp
import random

import numpy as np
import torch
from mmdet.registry import RUNNERS
from mmengine.dist import (all_gather_object, get_rank, get_world_size,
                           is_main_process)
from mmengine.logging import print_log
from mmengine.runner import Runner

RANDOM_STATES = 'random_states'


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
