# Copyright (c) mmpanet contributors. All rights reserved.
"""What ``import mmpanet`` adds to MMDetection's and MMEngine's registries
(the API page of the docs is generated from it)."""
from typing import Dict, List


def registered_modules() -> Dict[str, List[str]]:
    """``{'mmdet.registry.MODELS': ['mmpanet.models....Class', ...]}``:
    every class or function of mmpanet in a registry, by registry, sorted
    by name."""
    import mmdet.registry as mmdet_registries
    import mmengine.registry as root_registries

    import mmpanet  # noqa: F401  (registers)
    found = {}
    for module in (mmdet_registries, root_registries):
        for name in sorted(dir(module)):
            registry = getattr(module, name)
            if not isinstance(registry, root_registries.Registry):
                continue
            paths = sorted(f'{obj.__module__}.{obj.__qualname__}'
                           for obj in registry.module_dict.values()
                           if obj.__module__.startswith('mmpanet.'))
            if paths:
                found.setdefault(f'{module.__name__}.{name}', paths)
    return found
