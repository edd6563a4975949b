"""Recognise ``TypedDict`` classes from ``typing`` and from ``typing_extensions``."""

from __future__ import annotations

import sys
import typing
from typing import Any

__all__ = ["is_typeddict"]


def is_typeddict(cls: Any) -> bool:
    """Whether ``cls`` is a ``TypedDict`` class (either flavour), without importing extras."""
    if typing.is_typeddict(cls):
        return True
    ext = sys.modules.get("typing_extensions")
    return ext is not None and bool(ext.is_typeddict(cls))
