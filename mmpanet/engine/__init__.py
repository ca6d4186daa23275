# Copyright (c) mmpanet contributors. All rights reserved.
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .cpu_ddp import DeviceAwareDistributedDataParallel
from .runner import PANetRunner

__all__ = [
    'CPUAmpOptimWrapper', 'DeviceAwareDistributedDataParallel', 'PANetRunner'
]
