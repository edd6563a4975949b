"""What a run was asked to do: the arguments and config of one invocation, resolved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["NO_ANSWER", "RunOptions"]

NO_ANSWER: Any = object()
"""``RunOptions.nested_answer`` of a nested run whose parent got no resume value."""


class RunOptions:
    """Everything a run was asked to do, resolved from arguments and config."""

    __slots__ = (
        "checkpoint_id",
        "config",
        "durability",
        "interrupt_after",
        "interrupt_before",
        "metadata",
        "modes",
        "nested_answer",
        "ns",
        "recursion_limit",
        "thread_id",
    )

    def __init__(  # positional or keyword: see CompiledStateGraph._prepare
        self,
        config: dict[str, Any],
        thread_id: str | None,
        ns: str,
        checkpoint_id: str | None,
        modes: frozenset[str],
        interrupt_before: frozenset[str] | None,
        interrupt_after: frozenset[str] | None,
        durability: str,
        recursion_limit: int,
        metadata: Mapping[str, Any],
        nested_answer: Any = None,
    ) -> None:
        self.config = config
        self.thread_id = thread_id
        self.ns = ns
        self.checkpoint_id = checkpoint_id
        self.modes = modes
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.durability = durability
        self.recursion_limit = recursion_limit
        self.metadata = metadata
        # For a graph invoked inside a node: None (not nested), NO_ANSWER, or the
        # parent's resume value, which goes to this graph's pending interrupt.
        self.nested_answer = nested_answer
