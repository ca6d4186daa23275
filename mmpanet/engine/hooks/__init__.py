# Copyright (c) mmpanet contributors. All rights reserved.
from .module_ranges_hook import ModuleRangesHook

__all__ = ['ModuleRangesHook']
