# Copyright (c) mmpanet contributors. All rights reserved.
from .checkpoint import (DownloadHashError, UntrustedCheckpointError,
                         trusted_checkpoint)
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .cpu_ddp import DeviceAwareDistributedDataParallel
from .cpu_sync_batchnorm import CPUSyncBatchNorm
from .hooks import ModuleRangesHook
from .runner import EmptyTrainingSetError, PANetRunner

__all__ = [
    'CPUAmpOptimWrapper', 'CPUSyncBatchNorm',
    'DeviceAwareDistributedDataParallel', 'DownloadHashError',
    'EmptyTrainingSetError', 'ModuleRangesHook', 'PANetRunner',
    'UntrustedCheckpointError', 'trusted_checkpoint'
]
