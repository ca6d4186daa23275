# Copyright (c) mmpanet contributors. All rights reserved.
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also runs on CPU (``gloo``).

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which torch
    rejects for a CPU module; this wrapper drops it there. torch's
    ``SyncBatchNorm`` has no CPU kernel either, so on CPU it is turned back
    into plain BN (statistics per process), with a warning. On GPUs it is
    ``MMDistributedDataParallel`` unchanged: SyncBN synchronizes.
    """

    def __init__(self, module: nn.Module, **kwargs) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
            if any(isinstance(m, nn.SyncBatchNorm) for m in module.modules()):
                print_log(
                    'SyncBN needs GPUs: on CPU it runs as BN with '
                    'per-process statistics',
                    logger='current',
                    level=30)
                module = revert_sync_batchnorm(module)
        super().__init__(module=module, **kwargs)
