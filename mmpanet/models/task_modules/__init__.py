# Copyright (c) mmpanet contributors. All rights reserved.
from .detectron_anchor_generator import DetectronAnchorGenerator
from .detectron_bbox_coder import DetectronDeltaXYWHBBoxCoder

__all__ = ['DetectronAnchorGenerator', 'DetectronDeltaXYWHBBoxCoder']
