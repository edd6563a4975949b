"""Checkpoints, graphs and skips the conformance suite (and backend tests) build on."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from pausegraph.checkpoint._records import Checkpoint, TaskRef, new_checkpoint_id
from pausegraph.checkpoint.base import BaseCheckpointSaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import interrupt

__all__ = [
    "NOW",
    "Ask",
    "Pair",
    "ask_graph",
    "config",
    "make_checkpoint",
    "pair_graph",
    "require",
    "save_chain",
]

NOW = "2025-01-01T00:00:00+00:00"
"""The ``created_at`` of every checkpoint :func:`make_checkpoint` makes."""


_FRONTIER = (TaskRef("a"), TaskRef("b", True, {"i": (1, 2)}), TaskRef("c", False, "in"))


def make_checkpoint(
    changes: Mapping[str, Any],
    base: Checkpoint | None = None,
    *,
    thread: str = "t",
    ns: str = "",
    source: Any = "loop",
    metadata: Mapping[str, Any] | None = None,
    frontier: tuple[TaskRef, ...] = _FRONTIER,
) -> Checkpoint:
    """A new checkpoint after ``base`` (or a first one) that changes only ``changes``.

    Its frontier, barriers and writers are non-trivial, so a round trip checks
    them too; ``frontier=()`` makes the checkpoint of a finished run.
    """
    cid = new_checkpoint_id()
    values = dict(base.values) if base else {}
    versions = dict(base.versions) if base else {}
    for key, value in changes.items():
        values[key], versions[key] = value, cid
    return Checkpoint(
        thread_id=thread,
        ns=ns,
        id=cid,
        parent_id=base.id if base else None,
        step=base.step + 1 if base else -1,
        source=source,
        created_at=NOW,
        values=values,
        versions=versions,
        frontier=frontier,
        barriers={"0": ("a", "b")},
        metadata=dict(metadata or {}),
        writers=("a",),
    )


def save_chain(
    saver: BaseCheckpointSaver,
    n: int,
    *,
    thread: str = "t",
    ns: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> list[Checkpoint]:
    """Save ``n`` checkpoints, oldest first: each changes ``x``, every third also ``y``."""
    out: list[Checkpoint] = []
    for i in range(n):
        changes = {"x": i, "y": [i]} if i % 3 == 0 else {"x": i}
        base = out[-1] if out else None
        out.append(make_checkpoint(changes, base, thread=thread, ns=ns, metadata=metadata))
        saver.save(out[-1])
    return out


def require(saver: Any, capability: type) -> None:
    """Skip the test unless ``saver`` offers ``capability`` (a capability protocol)."""
    if not isinstance(saver, capability):
        pytest.skip(f"{type(saver).__name__} does not offer {capability.__name__}")


def config(thread_id: str, **metadata: Any) -> dict[str, Any]:
    """A run config for ``thread_id``, with run metadata when given."""
    out: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
    if metadata:
        out["metadata"] = metadata
    return out


class Ask(TypedDict):
    question: str
    answer: str


def ask_graph(saver: Any, name: str = "asker") -> Any:
    """``START -> ask -> END``; ``ask`` interrupts with ``{"ask": question}``, stores the answer."""

    def ask(state: Ask) -> dict[str, Any]:
        return {"answer": interrupt({"ask": state["question"]})}

    builder = StateGraph(Ask)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver, name=name)


class Pair(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    left: str
    right: str
    total: int


def pair_graph(saver: Any, name: str = "pair") -> Any:
    """``count`` then ``left`` and ``right`` in parallel, each asking a question, then ``done``.

    Each node writes only its own keys, so later checkpoints read values from
    older ones: what pruning must keep.
    """

    def count(state: Pair) -> dict[str, Any]:
        return {"total": state.get("total", 0) + 1, "log": ["count"]}

    def left(state: Pair) -> dict[str, Any]:
        return {"left": interrupt("left?"), "log": ["left"]}

    def right(state: Pair) -> dict[str, Any]:
        return {"right": interrupt("right?"), "log": ["right"]}

    def done(state: Pair) -> dict[str, Any]:
        return {"log": ["done"]}

    builder = StateGraph(Pair)
    builder.add_node("count", count)
    builder.add_node("left", left)
    builder.add_node("right", right)
    builder.add_node("done", done)
    builder.add_edge(START, "count")
    builder.add_edge("count", "left")
    builder.add_edge("count", "right")
    builder.add_edge(["left", "right"], "done")
    builder.add_edge("done", END)
    return builder.compile(checkpointer=saver, name=name)
