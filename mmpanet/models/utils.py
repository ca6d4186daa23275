# Copyright (c) mmpanet contributors. All rights reserved.
"""What every model module validates its options with."""
from typing import Any, Iterable


def check_choice(key: str, value: Any, choices: Iterable) -> None:
    """Raise ``ValueError`` naming the config ``key`` and the allowed values
    unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f'{key} must be one of {choices}, got {value!r}')


def check_positive_int(key: str, value: Any) -> None:
    """Raise ``ValueError`` naming ``key`` unless ``value`` is an int >=
    1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'{key} must be a positive int, got {value!r}')
