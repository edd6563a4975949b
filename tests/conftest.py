"""Shared fixtures: every behaviour test runs once per checkpoint saver.

``saver`` is parametrized over every saver in ``tests/_savers.py``: memory and
SQLite always; Postgres and Redis when their servers run (CI requires them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import pytest

from _savers import SAVERS
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import interrupt

pytest_plugins = ["_redis"]  # the Redis tests' ``client`` and ``prefix`` fixtures

SAVER_KINDS = tuple(SAVERS)


def _sqlite_saver_class() -> Any:
    from pausegraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver


@pytest.fixture(params=SAVER_KINDS)
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh, set-up checkpoint saver of each kind (see ``tests/_savers.py``)."""
    with SAVERS[request.param](tmp_path) as cp:
        yield cp


@pytest.fixture
def dict_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as if langchain-core were not installed: messages stay plain dicts.

    With it installed (as in dev and CI), ``add_messages`` converts messages to
    LangChain objects, as LangGraph does; tests of the dict path hide it, and
    ``test_prebuilt_langchain.py`` covers the LangChain path.
    """
    import sys

    for name in [
        n for n in sys.modules if n == "langchain_core" or n.startswith("langchain_core.")
    ]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "langchain_core", None)  # import raises ImportError


@pytest.fixture
def sqlite_saver_cls() -> Any:
    """The ``SqliteSaver`` class, for tests that reopen a database file (SQLite only)."""
    return _sqlite_saver_class()


# -- the seed graph (START -> step_1 -> step_2 -> step_3 -> END) -------------------


class SeedState(TypedDict):
    input: str


@dataclass
class Seed:
    """The seed graph of the notes, compiled on a saver, with a log of node calls."""

    graph: Any
    calls: list[str] = field(default_factory=list)
    resumed_with: list[Any] = field(default_factory=list)


def build_seed(checkpointer: Any, **compile_kw: Any) -> Seed:
    """Builds the notes' seed graph: step_2 interrupts when the input is longer than 5."""
    seed = Seed(graph=None)

    def step_1(state: SeedState) -> dict[str, Any]:
        seed.calls.append("step_1")
        return {"input": state["input"]}

    def step_2(state: SeedState) -> dict[str, Any]:
        seed.calls.append("step_2")
        if len(state["input"]) > 5:
            value = interrupt({"question": "too long", "input": state["input"]})
            seed.resumed_with.append(value)
            return {"input": value}
        return {"input": state["input"]}

    def step_3(state: SeedState) -> dict[str, Any]:
        seed.calls.append("step_3")
        return {"input": state["input"] + "!"}

    builder = StateGraph(SeedState)
    builder.add_node("step_1", step_1)
    builder.add_node("step_2", step_2)
    builder.add_node("step_3", step_3)
    builder.add_edge(START, "step_1")
    builder.add_edge("step_1", "step_2")
    builder.add_edge("step_2", "step_3")
    builder.add_edge("step_3", END)
    seed.graph = builder.compile(checkpointer=checkpointer, **compile_kw)
    return seed


@pytest.fixture
def seed_on() -> Callable[..., Seed]:
    """``seed_on(checkpointer, **compile_kw)`` compiles the seed graph on a given saver."""
    return build_seed


@pytest.fixture
def make_seed(saver: Any) -> Callable[..., Seed]:
    """``make_seed(**compile_kw)`` compiles the seed graph on the current saver."""
    return lambda **compile_kw: build_seed(saver, **compile_kw)


def thread_view(graph: Any, config: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    """The stored thread as ``(config, values, next)`` per checkpoint, newest first."""
    return [(s.config, s.values, s.next) for s in graph.get_state_history(config)]


@pytest.fixture
def view() -> Callable[[Any, dict[str, Any]], list[tuple[Any, Any, Any]]]:
    """:func:`thread_view`, for comparing a thread before and after a refused call."""
    return thread_view
