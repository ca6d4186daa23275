# Copyright (c) mmpanet contributors. All rights reserved.
from .synthetic_shapes import SHAPE_CLASSES, generate_shapes_dataset
from .transforms import DetectronResize

__all__ = ['SHAPE_CLASSES', 'generate_shapes_dataset', 'DetectronResize']
