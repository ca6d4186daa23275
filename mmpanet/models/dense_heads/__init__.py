# Copyright (c) mmpanet contributors. All rights reserved.
from .detectron_rpn_head import DetectronRPNHead

__all__ = ['DetectronRPNHead']
