# Copyright (c) mmpanet contributors. All rights reserved.
from .all_level_roi_extractor import AllLevelRoIExtractor

__all__ = ['AllLevelRoIExtractor']
