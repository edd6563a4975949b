"""The graphs the workloads run, built from either implementation's API.

Nothing here imports LangGraph or pausegraph directly: :class:`Lib` imports
``<prefix>.<module>`` on first use, so the same code builds both.
"""

from __future__ import annotations

import importlib
import itertools
import operator
import random
import string
from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any, TypedDict

LINEAR_STEPS = 10
ITEM_CHARS = 1000


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


class Log(TypedDict):
    """State of the appending graph: one item per step, and the step count."""

    items: Annotated[list[str], operator.add]
    n: int


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


@cache
def item(i: int) -> str:
    """The ``i``-th item of the appending graph: ``ITEM_CHARS`` pseudo-random letters/digits.

    The same on every run; they neither deduplicate nor compress much.
    """
    return "".join(random.Random(i).choices(string.ascii_letters + string.digits, k=ITEM_CHARS))


def _append(state: Log) -> dict[str, Any]:
    return {"items": [item(state["n"])], "n": state["n"] + 1}


def threads(prefix: str = "t") -> Iterator[dict[str, Any]]:
    """Yields run configs, each with a new ``thread_id``."""
    for i in itertools.count():
        yield {"configurable": {"thread_id": f"{prefix}{i}"}}


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


def appending_graph(lib: Lib, saver: Any, steps: int) -> Any:
    """START -> step, looping back to ``step`` (conditional edge) ``steps`` times, -> END.

    Step ``n`` appends :func:`item` ``(n)`` to ``items`` and sets ``n`` to ``n + 1``.
    Run it with a ``recursion_limit`` above ``steps``.
    """
    end = lib.get("graph", "END")
    builder = lib.get("graph", "StateGraph")(Log)
    builder.add_node("step", _append)
    builder.add_edge(lib.get("graph", "START"), "step")
    builder.add_conditional_edges(
        "step", lambda state: "step" if state["n"] < steps else end, ["step", end]
    )
    return builder.compile(checkpointer=saver)


def ask_graph(lib: Lib, saver: Any, *, breakpoint: bool = False, asynchronous: bool = False) -> Any:
    """A graph that pauses at node ``ask``.

    Args:
        lib: The implementation.
        saver: The checkpointer.
        breakpoint: If false, START -> ask -> done -> END where ``ask`` calls
            ``interrupt("q?")`` and stores the resume value in ``answer``. If true,
            START -> ask -> END with a plain ``ask``, compiled with
            ``interrupt_before=["ask"]``.
        asynchronous: Make ``ask`` an ``async def`` (the ``interrupt`` graph only).
    """
    interrupt = lib.get("types", "interrupt")

    def ask_sync(state: Answer) -> dict[str, str]:
        return {"answer": interrupt("q?")}

    async def ask_async(state: Answer) -> dict[str, str]:
        return {"answer": interrupt("q?")}

    ask = ask_async if asynchronous else ask_sync

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
