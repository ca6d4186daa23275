# Copyright (c) mmpanet contributors. All rights reserved.
"""PANet (Path Aggregation Network, CVPR 2018) for MMDetection 3.x.

Importing the package registers, in MMDetection's registries (scope
``mmdet``), the models and task modules of ``mmpanet.models``, the
transforms of ``mmpanet.datasets`` and the runner, loops, hooks, optimizer
wrapper and model wrapper of ``mmpanet.engine``, the ONNX Runtime model of
``mmpanet.deploy``, and makes every checkpoint
and pickle load without running code from it (``mmpanet.engine.checkpoint``);
configs do it with ``custom_imports = dict(imports=['mmpanet'])``
(``configs/_base_/panet_runtime.py``).
"""
from .apis import init_model
from .datasets import *  # noqa: F401,F403
from .deploy import ONNXRuntimeDetector  # noqa: F401
from .engine import *  # noqa: F401,F403
from .engine import amp_inference, trusted_checkpoint
from .models import *  # noqa: F401,F403
from .version import __version__

__all__ = ['__version__', 'amp_inference', 'init_model', 'trusted_checkpoint']
