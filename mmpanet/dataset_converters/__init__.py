# Copyright (c) mmpanet contributors. All rights reserved.
from .cityscapes import convert_cityscapes
from .mapillary_vistas import convert_mapillary_vistas

__all__ = ['convert_cityscapes', 'convert_mapillary_vistas']
