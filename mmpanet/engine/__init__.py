# Copyright (c) mmpanet contributors. All rights reserved.
from .cpu_ddp import DeviceAwareDistributedDataParallel
from .random_state_hook import RandomStateHook
from .runner import PANetRunner

__all__ = [
    'DeviceAwareDistributedDataParallel', 'RandomStateHook', 'PANetRunner'
]
