# Copyright (c) mmpanet contributors. All rights reserved.
import torch.nn as nn
from mmdet.registry import MODEL_WRAPPERS
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel

from .cpu_sync_batchnorm import CPUSyncBatchNorm


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also runs on CPU (``gloo``).

    mmengine's runner always passes ``device_ids=[LOCAL_RANK]``, which torch
    rejects for a CPU module; this wrapper drops it there. torch's
    ``SyncBatchNorm`` refuses CPU tensors, so on CPU it is replaced by
    ``CPUSyncBatchNorm``, which synchronizes the batch statistics over the
    process group itself. On GPUs it is ``MMDistributedDataParallel``
    unchanged (torch's ``SyncBatchNorm`` synchronizes).

    Registered in mmdet's scope; configs name it with the scope,
    ``'mmdet.DeviceAwareDistributedDataParallel'`` (in
    ``configs/_base_/panet_runtime.py``), because mmengine's
    ``Runner.wrap_model`` looks the type up in mmengine's root registry.
    """

    def __init__(self, module: nn.Module, **kwargs) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
            if any(isinstance(m, nn.SyncBatchNorm) for m in module.modules()):
                print_log(
                    'SyncBN on CPU: batch statistics are synchronized over '
                    'the process group by CPUSyncBatchNorm',
                    logger='current')
                module = CPUSyncBatchNorm.convert(module)
        super().__init__(module=module, **kwargs)
