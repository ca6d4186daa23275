# Copyright (c) mmpanet contributors. All rights reserved.
from .checkpoint_compat import allow_full_checkpoint_load

__all__ = ['allow_full_checkpoint_load']
