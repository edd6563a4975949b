"""Caching in the functional API, which pausegraph does not offer, says so."""

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


def test_the_functional_api_warns_too() -> None:
    with pytest.warns(UnsupportedOptionWarning, match=r"@task\(cache_policy=...\)"):
        task(cache_policy=object())
    with pytest.warns(UnsupportedOptionWarning, match=r"@entrypoint\(cache_policy=...\)"):
        entrypoint(cache_policy=object())


def test_nothing_is_said_without_them(recwarn: pytest.WarningsRecorder) -> None:
    builder().compile()
    task(lambda: 1)
    assert not [w for w in recwarn if issubclass(w.category, UnsupportedOptionWarning)]
