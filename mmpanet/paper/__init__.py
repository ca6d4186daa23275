# Copyright (c) mmpanet contributors. All rights reserved.
"""The paper's tables (:mod:`.tables`: the rows, their numbers and their
configs) and the model-zoo files generated from them (:mod:`.model_zoo`)."""
