# Copyright (c) mmpanet contributors. All rights reserved.
"""PANet (Path Aggregation Network, CVPR 2018) for MMDetection 3.x.

Importing the package registers every module in MMDetection's ``MODELS``
registry, and the runner, hook and model wrapper of ``mmpanet.engine`` in
MMEngine's registries; configs do it with
``custom_imports = dict(imports=['mmpanet'])``.
"""
from .engine import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .version import __version__

__all__ = ['__version__']
