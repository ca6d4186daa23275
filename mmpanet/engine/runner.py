# Copyright (c) mmpanet contributors. All rights reserved.
import os
import os.path as osp
from typing import Dict, List, Optional, Union

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


@RUNNERS.register_module()
class PANetRunner(Runner):
    """mmengine's ``Runner`` with what long multi-process runs need.

    - Checkpoints are written to a temporary file and renamed into place
      (``os.replace``, atomic on POSIX), so a kill during a save never
      leaves a truncated file under a checkpoint's name, and
      ``last_checkpoint`` (written by ``CheckpointHook`` after the save)
      only ever points to a complete file.
    - ``RandomStateHook`` is registered unless the config lists it, so
      ``--resume`` continues the random streams too.
    - Distributed runs wrap the model in
      ``DeviceAwareDistributedDataParallel`` unless ``model_wrapper_cfg``
      names a wrapper, so ``gloo`` on CPU works (SyncBN falls back to BN).

    ``tools/train.py`` and ``tools/test.py`` use it unless the config sets
    ``runner_type``.
    """

    def wrap_model(self, model_wrapper_cfg: Optional[Dict], model):
        if self.distributed and model_wrapper_cfg is None:
            model_wrapper_cfg = dict(type='DeviceAwareDistributedDataParallel')
        return super().wrap_model(model_wrapper_cfg, model)

    def register_hooks(self,
                       default_hooks: Optional[Dict] = None,
                       custom_hooks: Optional[List[Union[Dict, Hook]]] = None):
        custom_hooks = list(custom_hooks or [])
        if not any(
                isinstance(h, dict) and h.get('type') == 'RandomStateHook'
                for h in custom_hooks):
            custom_hooks.append(dict(type='RandomStateHook'))
        super().register_hooks(default_hooks, custom_hooks)

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
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
