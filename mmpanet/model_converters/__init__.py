# Copyright (c) mmpanet contributors. All rights reserved.
from .class_subset import COCO_TO_CITYSCAPES, select_classes
from .panet_authors import (convert_checkpoint, convert_state_dict,
                            load_authors_checkpoint)

__all__ = [
    'convert_checkpoint', 'convert_state_dict', 'load_authors_checkpoint',
    'COCO_TO_CITYSCAPES', 'select_classes'
]
