# Copyright (c) mmpanet contributors. All rights reserved.
from .memory_format_det_data_preprocessor import \
    MemoryFormatDetDataPreprocessor

__all__ = ['MemoryFormatDetDataPreprocessor']
