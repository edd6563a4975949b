"""Node caching, which pausegraph does not offer, says so, pointing at the caller's line."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from pausegraph.errors import UnsupportedOptionWarning
from pausegraph.func import entrypoint, task
from pausegraph.graph import START, StateGraph


class S(TypedDict):
    a: int


def builder() -> Any:
    b = StateGraph(S)
    b.add_node("n", lambda s: {"a": s["a"] + 1})
    b.add_edge(START, "n")
    return b


def test_node_caching_warns_and_the_graph_still_runs() -> None:
    b = StateGraph(S)
    with pytest.warns(UnsupportedOptionWarning, match=r"add_node\('n', cache_policy=...\)") as w:
        b.add_node("n", lambda s: {"a": s["a"] + 1}, cache_policy=object())
    assert w[0].filename == __file__  # the warning points at this line, not pausegraph's
    b.add_edge(START, "n")
    with pytest.warns(UnsupportedOptionWarning) as caught:
        graph = b.compile(cache=object())
    assert [str(x.message).split(":")[0] for x in caught] == ["compile(cache=...)"]
    assert graph.invoke({"a": 1}) == {"a": 2}


def test_the_functional_api_warns_too() -> None:
    with pytest.warns(UnsupportedOptionWarning, match=r"@task\(cache_policy=...\)"):
        task(cache_policy=object())
    with pytest.warns(UnsupportedOptionWarning, match=r"@entrypoint\(cache_policy=...\)"):
        entrypoint(cache_policy=object())


def test_nothing_is_said_without_them(recwarn: pytest.WarningsRecorder) -> None:
    builder().compile()
    assert not [w for w in recwarn if issubclass(w.category, UnsupportedOptionWarning)]
