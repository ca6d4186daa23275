# Copyright (c) mmpanet contributors. All rights reserved.
from .panet_authors import (convert_checkpoint, convert_state_dict,
                            load_authors_checkpoint)

__all__ = [
    'convert_checkpoint', 'convert_state_dict', 'load_authors_checkpoint'
]
