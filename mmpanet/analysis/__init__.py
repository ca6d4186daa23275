# Copyright (c) mmpanet contributors. All rights reserved.
"""What the tools in ``tools/analysis_tools`` and ``tools/misc`` do: the
ablation report, the Figure 3 level share, the benchmark and the model-zoo
files. The tools are command lines over these modules."""
