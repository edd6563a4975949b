"""Names with a special meaning in a graph.

``START`` and ``END`` are the virtual first and last nodes of every graph.
"""

from __future__ import annotations

from typing import Final

__all__ = ["END", "START", "TAG_HIDDEN"]

START: Final = "__start__"
"""The virtual node a run enters through; edges from it pick the first nodes."""

END: Final = "__end__"
"""The virtual node a run leaves through; an edge to it ends that branch."""

TAG_HIDDEN: Final = "langsmith:hidden"
"""Accepted for compatibility; pausegraph does not trace."""

# Keys that appear in results and stored writes; reserved as node and state names.
INTERRUPT: Final = "__interrupt__"
RESERVED_NAMES: Final = frozenset({START, END, INTERRUPT, "__root__", "__input__"})
