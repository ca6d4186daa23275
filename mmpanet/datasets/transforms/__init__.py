# Copyright (c) mmpanet contributors. All rights reserved.
from .detectron_resize import DetectronResize

__all__ = ['DetectronResize']
