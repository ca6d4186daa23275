# Copyright (c) mmpanet contributors. All rights reserved.
from .path_aggregation_fpn import PathAggregationFPN

__all__ = ['PathAggregationFPN']
