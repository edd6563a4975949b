"""The graphs the workloads run, built from either implementation's API.

Nothing here imports LangGraph or pausegraph directly: :class:`Lib` imports
``<prefix>.<module>`` on first use, so the same code builds both.
"""

from __future__ import annotations

import importlib
import itertools
import operator
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

Saver = Literal["none", "memory", "sqlite"]
LINEAR_STEPS = 10


class Lib:
    """One implementation's public API, imported lazily under a prefix."""

    def __init__(self, prefix: str) -> None:
        """Stores the prefix (``"langgraph"`` or ``"pausegraph"``); imports nothing."""
        self.prefix = prefix

    def get(self, module: str, name: str) -> Any:
        """Does ``from <prefix>.<module> import <name>``.

        Raises:
            ImportError: If the module or the name is missing.
        """
        mod = importlib.import_module(f"{self.prefix}.{module}")
        try:
            return getattr(mod, name)
        except AttributeError:
            raise ImportError(f"cannot import name {name!r} from {mod.__name__!r}") from None


class Counter(TypedDict):
    """State of the linear graph."""

    x: int


class Bag(TypedDict):
    """State of the fan-out graph: results of every ``work`` task."""

    items: Annotated[list[int], operator.add]


class Answer(TypedDict):
    """State of the interrupt and breakpoint graphs."""

    answer: str


def _inc(state: Counter) -> dict[str, int]:
    return {"x": state["x"] + 1}


def _split(state: Bag) -> dict[str, list[int]]:
    return {}


def _work(arg: dict[str, int]) -> dict[str, list[int]]:
    return {"items": [arg["i"]]}


def _yes(state: Answer) -> dict[str, str]:
    return {"answer": "yes"}


def _noop(state: Answer) -> dict[str, str]:
    return {}


def threads(prefix: str = "t") -> Iterator[dict[str, Any]]:
    """Yields run configs, each with a new ``thread_id``."""
    for i in itertools.count():
        yield {"configurable": {"thread_id": f"{prefix}{i}"}}


@contextmanager
def checkpointer(lib: Lib, kind: Saver) -> Iterator[Any]:
    """Yields a fresh checkpointer: ``None``, an InMemorySaver, or a SqliteSaver.

    The SQLite database is a file in a temporary directory, removed on exit.
    """
    if kind == "none":
        yield None
    elif kind == "memory":
        yield lib.get("checkpoint.memory", "InMemorySaver")()
    else:
        sqlite_saver = lib.get("checkpoint.sqlite", "SqliteSaver")
        with (
            tempfile.TemporaryDirectory() as tmp,
            sqlite_saver.from_conn_string(str(Path(tmp) / "bench.db")) as saver,
        ):
            if callable(getattr(saver, "setup", None)):
                saver.setup()
            yield saver


def linear_graph(lib: Lib, saver: Any = None, steps: int = LINEAR_STEPS) -> Any:
    """START -> n0 -> ... -> n{steps-1} -> END; each node adds 1 to ``x``."""
    builder = lib.get("graph", "StateGraph")(Counter)
    names = [f"n{i}" for i in range(steps)]
    for name in names:
        builder.add_node(name, _inc)
    start, end = lib.get("graph", "START"), lib.get("graph", "END")
    for a, b in zip([start, *names], [*names, end], strict=True):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=saver)


def fanout_graph(lib: Lib, width: int) -> Any:
    """START -> split -> ``width`` parallel ``Send("work", {"i": i})`` -> END."""
    send = lib.get("types", "Send")
    builder = lib.get("graph", "StateGraph")(Bag)
    builder.add_node("split", _split)
    builder.add_node("work", _work)
    builder.add_edge(lib.get("graph", "START"), "split")
    builder.add_conditional_edges(
        "split", lambda _state: [send("work", {"i": i}) for i in range(width)], ["work"]
    )
    builder.add_edge("work", lib.get("graph", "END"))
    return builder.compile()


def ask_graph(lib: Lib, saver: Any, *, breakpoint: bool = False) -> Any:
    """A graph that pauses at node ``ask``.

    Args:
        lib: The implementation.
        saver: The checkpointer.
        breakpoint: If false, START -> ask -> done -> END where ``ask`` calls
            ``interrupt("q?")`` and stores the resume value in ``answer``. If true,
            START -> ask -> END with a plain ``ask``, compiled with
            ``interrupt_before=["ask"]``.
    """
    interrupt = lib.get("types", "interrupt")

    def ask(state: Answer) -> dict[str, str]:
        return {"answer": interrupt("q?")}

    start, end = lib.get("graph", "START"), lib.get("graph", "END")
    builder = lib.get("graph", "StateGraph")(Answer)
    if breakpoint:
        builder.add_node("ask", _yes)
        builder.add_edge(start, "ask")
        builder.add_edge("ask", end)
        return builder.compile(checkpointer=saver, interrupt_before=["ask"])
    builder.add_node("ask", ask)
    builder.add_node("done", _noop)
    builder.add_edge(start, "ask")
    builder.add_edge("ask", "done")
    builder.add_edge("done", end)
    return builder.compile(checkpointer=saver)
