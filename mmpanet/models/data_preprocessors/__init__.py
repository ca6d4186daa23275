# Copyright (c) mmpanet contributors. All rights reserved.
from .memory_format_det_data_preprocessor import (
    MEMORY_FORMATS, MemoryFormatDetDataPreprocessor)

__all__ = ['MEMORY_FORMATS', 'MemoryFormatDetDataPreprocessor']
