# Copyright (c) mmpanet contributors. All rights reserved.
from .amp import AmpTestLoop, AmpValLoop, amp_inference
from .checkpoint import (DownloadHashError, UntrustedCheckpointError,
                         trusted_checkpoint)
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .cpu_ddp import DeviceAwareDistributedDataParallel
from .cpu_sync_batchnorm import CPUSyncBatchNorm
from .hooks import ModuleRangesHook
from .runner import EmptyTrainingSetError, PANetRunner

__all__ = [
    'AmpTestLoop', 'AmpValLoop', 'amp_inference', 'CPUAmpOptimWrapper',
    'CPUSyncBatchNorm', 'DeviceAwareDistributedDataParallel',
    'DownloadHashError', 'EmptyTrainingSetError', 'ModuleRangesHook',
    'PANetRunner', 'UntrustedCheckpointError', 'trusted_checkpoint'
]
