# Copyright (c) mmpanet contributors. All rights reserved.
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random states of every process (python, numpy, torch) in
    each checkpoint and restore them on resume.

    Without it a resumed run draws different random numbers in the model
    (RPN and RoI sampling), so its losses drift from those of an
    uninterrupted run. Data augmentation runs in the dataloader workers,
    which mmengine seeds per worker; with ``num_workers=0`` it shares the
    main process's state, which the skipped batches of a resume advance,
    so exact resumption needs ``num_workers >= 1``.
    """

    # before CheckpointHook (VERY_LOW), so that the states are gathered
    # from every process before rank 0 saves
    priority = 'LOW'

    def __init__(self) -> None:
        self._gathered: Optional[list] = None

    @staticmethod
    def _state() -> dict:
        return dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state()
            if torch.cuda.is_available() else None)

    @staticmethod
    def _checkpoint_hook(runner):
        return next((h for h in runner.hooks if isinstance(h, CheckpointHook)),
                    None)

    def _gather_if_saving(self, runner, by_epoch: bool) -> None:
        """Only rank 0 saves checkpoints, so every process hands its state
        over on the steps where CheckpointHook is about to save."""
        if get_world_size() == 1:
            return
        hook = self._checkpoint_hook(runner)
        if hook is None or hook.by_epoch != by_epoch:
            return
        if by_epoch:
            saving = hook.every_n_epochs(
                runner, hook.interval,
                hook.save_begin) or (hook.save_last
                                     and hook.is_last_train_epoch(runner))
        else:
            saving = hook.every_n_train_iters(
                runner, hook.interval,
                hook.save_begin) or (hook.save_last
                                     and hook.is_last_train_iter(runner))
        if saving:
            self._gathered = all_gather_object(self._state())

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self._gather_if_saving(runner, by_epoch=False)

    def after_train_epoch(self, runner) -> None:
        self._gather_if_saving(runner, by_epoch=True)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._gathered or [self._state()]
        self._gathered = None
        checkpoint['random_states'] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states: Optional[list] = checkpoint.get('random_states')
        if not states:
            return
        if len(states) != get_world_size():
            print_log(
                f'random states were saved by {len(states)} processes and '
                f'this run has {get_world_size()}: not restored',
                logger='current')
            return
        state = states[get_rank()]
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if state['cuda'] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state(state['cuda'])
