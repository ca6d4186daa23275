# Copyright (c) mmpanet contributors. All rights reserved.
import os


def allow_full_checkpoint_load() -> None:
    """Let mmengine load its own checkpoints on torch >= 2.6.

    torch 2.6 made ``torch.load`` default to ``weights_only=True``, and
    mmengine 0.10.x does not pass ``weights_only``, so resuming, ``load_from``
    and testing a local checkpoint fail on the ``HistoryBuffer`` in its
    ``message_hub``. torch reads ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` at each
    ``torch.load`` call; it is set here (unless the user set it) by the
    project's entry points. Only load checkpoints you trust.
    """
    if 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ:
        os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
