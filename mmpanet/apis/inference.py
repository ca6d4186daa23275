# Copyright (c) mmpanet contributors. All rights reserved.
import copy
import warnings
from typing import Optional, Union

import torch.nn as nn
from mmdet.apis import init_detector
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.model import revert_sync_batchnorm


def init_model(config: Union[str, Config, dict],
               checkpoint: Optional[str] = None,
               device: str = 'cpu') -> nn.Module:
    """A detector to run outside a Runner (tests, benchmarks, analysis
    tools), built the one way the project builds them, in eval mode.

    Args:
        config (str | Config | dict): A config file or ``Config`` (its
            ``model``), or a model config dict.
        checkpoint (str, optional): Weights to load, with mmdet's
            ``init_detector`` (through mmpanet's safe loader; dataset meta
            from the checkpoint). Without one, the model keeps its
            constructors' initialization and loads no pretrained weights
            (call ``init_weights()`` for its ``init_cfg``).
        device (str): Where to put it. Defaults to 'cpu'.

    SyncBN is reverted to BN, as ``init_detector`` does.
    """
    if isinstance(config, str):
        config = Config.fromfile(config)
    if checkpoint is not None:
        if not isinstance(config, Config):
            raise TypeError('loading a checkpoint needs the full config '
                            '(a file or Config), not a model dict')
        with warnings.catch_warnings():  # it changes the global filters
            return init_detector(config, checkpoint, device=device)
    model_cfg = config.model if isinstance(config, Config) else config
    model = MODELS.build(copy.deepcopy(ConfigDict(model_cfg)))
    model = revert_sync_batchnorm(model)
    return model.to(device).eval()
