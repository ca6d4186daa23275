# Copyright (c) mmpanet contributors. All rights reserved.
from .synthetic_shapes import SHAPE_CLASSES, generate_shapes_dataset

__all__ = ['SHAPE_CLASSES', 'generate_shapes_dataset']
