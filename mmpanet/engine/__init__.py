# Copyright (c) mmpanet contributors. All rights reserved.
from .checkpoint import (DownloadHashError, UntrustedCheckpointError,
                         trusted_checkpoint)
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .cpu_ddp import DeviceAwareDistributedDataParallel
from .runner import PANetRunner

__all__ = [
    'CPUAmpOptimWrapper', 'DeviceAwareDistributedDataParallel', 'PANetRunner',
    'DownloadHashError', 'UntrustedCheckpointError', 'trusted_checkpoint'
]
