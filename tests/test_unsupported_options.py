"""Caching a whole workflow, which pausegraph does not offer, says so (its tasks do cache)."""

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


def test_an_entrypoint_cache_policy_warns_pointing_at_the_caller() -> None:
    with pytest.warns(UnsupportedOptionWarning, match=r"@entrypoint\(cache_policy=...\)") as w:
        entrypoint(cache_policy=object())
    assert w[0].filename == __file__


def test_caching_options_that_work_say_nothing(recwarn: pytest.WarningsRecorder) -> None:
    from pausegraph.cache.memory import InMemoryCache
    from pausegraph.types import CachePolicy

    builder().compile(cache=InMemoryCache())
    task(cache_policy=CachePolicy())(lambda: 1)
    entrypoint(cache=InMemoryCache())
    assert not [w for w in recwarn if issubclass(w.category, UnsupportedOptionWarning)]
