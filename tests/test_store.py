"""The long-term stores (memory, SQLite, Postgres) as LangGraph 1.2.22's behave, and how nodes reach them.

Search order, filters, ``list_namespaces`` and the namespace rules were checked
against LangGraph's ``InMemoryStore`` with the same calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest

from _savers import postgres_schema
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.config import get_store
from pausegraph.func import entrypoint
from pausegraph.graph import START, StateGraph
from pausegraph.runtime import Runtime
from pausegraph.store.base import BaseStore, InvalidNamespaceError
from pausegraph.store.memory import InMemoryStore
from pausegraph.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    """A fresh store of each kind (SQLite in a file, Postgres in a schema of its own)."""
    if request.param == "memory":
        yield InMemoryStore()
        return
    if request.param == "sqlite":
        with SqliteStore.from_conn_string(str(tmp_path / "store.db")) as store:
            store.setup()
            yield store
        return
    with postgres_schema() as url:
        from pausegraph.store.postgres import PostgresStore

        with PostgresStore.from_conn_string(url) as pg:
            pg.setup()
            yield pg


def filled(store: BaseStore) -> BaseStore:
    store.put(("users", "u1"), "prefs", {"color": "blue", "n": 3})
    store.put(("users", "u2"), "prefs", {"color": "red", "n": 5})
    store.put(("users", "u1"), "other", {"color": "red", "n": 1})
    return store


def keys(items: list[Any]) -> list[tuple[tuple[str, ...], str]]:
    return [(i.namespace, i.key) for i in items]


def test_put_get_and_the_item(empty: BaseStore) -> None:
    store = filled(empty)
    item = store.get(("users", "u1"), "prefs")
    assert item is not None
    assert (item.namespace, item.key, item.value) == (
        ("users", "u1"),
        "prefs",
        {"color": "blue", "n": 3},
    )
    assert set(item.dict()) == {"namespace", "key", "value", "created_at", "updated_at"}
    assert item.dict()["namespace"] == ["users", "u1"]
    time.sleep(0.002)
    store.put(("users", "u1"), "prefs", {"color": "green"})
    again = store.get(("users", "u1"), "prefs")
    assert again is not None and again.value == {"color": "green"}
    assert again.created_at == item.created_at and again.updated_at > item.updated_at
    assert store.get(("users", "u1"), "missing") is None


def test_values_are_copied_in_and_out(empty: BaseStore) -> None:
    store = empty
    value = {"tags": ["a"]}
    store.put(("ns",), "k", value)
    value["tags"].append("b")
    got = store.get(("ns",), "k")
    assert got is not None and got.value == {"tags": ["a"]}
    got.value["tags"].append("c")
    assert store.get(("ns",), "k").value == {"tags": ["a"]}  # type: ignore[union-attr]


def test_search_filters_and_pages_in_write_order(empty: BaseStore) -> None:
    store = filled(empty)
    assert keys(store.search(("users",))) == [
        (("users", "u1"), "prefs"),
        (("users", "u1"), "other"),
        (("users", "u2"), "prefs"),
    ]
    assert keys(store.search(("users",), filter={"color": "red"})) == [
        (("users", "u1"), "other"),
        (("users", "u2"), "prefs"),
    ]
    assert keys(store.search(("users",), filter={"n": {"$gt": 2}})) == [
        (("users", "u1"), "prefs"),
        (("users", "u2"), "prefs"),
    ]
    assert keys(store.search(("users",), query="blue")) == keys(store.search(("users",)))
    assert keys(store.search(("users",), limit=1, offset=1)) == [(("users", "u1"), "other")]
    assert keys(store.search(("users", "u2"))) == [(("users", "u2"), "prefs")]
    assert [i.score for i in store.search(("users",))] == [None, None, None]
    with pytest.raises(ValueError, match=r"Unknown filter operator '\$in'"):
        store.search(("users",), filter={"n": {"$in": [1]}})


def test_list_namespaces_and_deleting(empty: BaseStore) -> None:
    store = filled(empty)
    assert store.list_namespaces() == [("users", "u1"), ("users", "u2")]
    assert store.list_namespaces(prefix=("users",), max_depth=1) == [("users",)]
    assert store.list_namespaces(suffix=("u2",)) == [("users", "u2")]
    store.put(("users", "u2"), "prefs", None)  # None deletes, as in LangGraph
    store.delete(("users", "u1"), "other")
    assert keys(store.search(("users",))) == [(("users", "u1"), "prefs")]
    assert store.list_namespaces() == [("users", "u1")]


@pytest.mark.parametrize(
    ("namespace", "message"),
    [
        ((), r"non-empty tuple of labels"),
        (("",), r"must be non-empty strings"),
        (("a.b",), r"contains a period"),
        (("langgraph", "x"), r'root label "langgraph" is reserved'),
    ],
)
def test_bad_namespaces_are_refused(
    empty: BaseStore, namespace: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InvalidNamespaceError, match=message):
        empty.put(namespace, "k", {"a": 1})


def test_what_it_does_not_offer_is_refused(empty: BaseStore) -> None:
    store = empty
    with pytest.raises(NotImplementedError, match=r"does not expire values"):
        store.put(("ns",), "k", {"a": 1}, ttl=5)
    with pytest.raises(NotImplementedError, match=r"semantic search"):
        InMemoryStore(index={"dims": 3})
    with pytest.raises(NotImplementedError, match=r"semantic search"):
        SqliteStore(None, index={"dims": 3})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"A store value is a dict"):
        store.put(("ns",), "k", "text")  # type: ignore[arg-type]
    assert store.list_namespaces() == []


def test_a_sqlite_store_outlives_its_connection(tmp_path: Path) -> None:
    path = str(tmp_path / "memory.db")
    with SqliteStore.from_conn_string(path) as store:
        store.setup()
        store.put(("users", "u1"), "prefs", {"tone": "short", "tags": ["a"]})
        with pytest.raises(TypeError, match=r"SqliteStore keeps JSON"):
            store.put(("users", "u1"), "bad", {"when": object()})
    with SqliteStore.from_conn_string(path) as again:
        again.setup()  # safe to call again
        item = again.get(("users", "u1"), "prefs")
        assert item is not None and item.value == {"tone": "short", "tags": ["a"]}
        assert again.get(("users", "u1"), "bad") is None


class S(TypedDict, total=False):
    user: str
    seen: list[str]


def test_nodes_reach_the_store_three_ways_and_share_it_across_threads() -> None:
    def remember(state: S, store: BaseStore) -> dict[str, Any]:
        store.put(("users", state["user"]), "visit", {"n": 1})
        return {}

    def by_runtime(state: S, runtime: Runtime[Any]) -> dict[str, Any]:
        found = runtime.store.search(("users",))
        return {"seen": [i.namespace[1] for i in found]}

    def by_helper(state: S) -> dict[str, Any]:
        assert get_store() is store
        return {}

    store = InMemoryStore()
    builder = StateGraph(S)
    builder.add_node("remember", remember)
    builder.add_node("by_runtime", by_runtime)
    builder.add_node("by_helper", by_helper)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "by_runtime")
    builder.add_edge("by_runtime", "by_helper")
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    one = {"configurable": {"thread_id": "1"}}
    assert graph.invoke({"user": "ada"}, one)["seen"] == ["ada"]
    two = {"configurable": {"thread_id": "2"}}
    assert graph.invoke({"user": "bob"}, two)["seen"] == ["ada", "bob"]  # another thread
    assert "__pregel_store" not in graph.get_state(two).metadata  # not stored with checkpoints


def test_a_subgraph_uses_its_callers_store() -> None:
    inner = StateGraph(S)
    inner.add_node("write", lambda s, store: store.put(("sub",), "k", {"v": 1}) or {})
    inner.add_edge(START, "write")
    outer_store = InMemoryStore()
    outer = StateGraph(S)
    outer.add_node("sub", inner.compile())
    outer.add_edge(START, "sub")
    outer.compile(store=outer_store).invoke({"user": "x"})
    assert outer_store.get(("sub",), "k") is not None


def test_async_nodes_and_entrypoints_get_it_too() -> None:
    store = InMemoryStore()

    async def node(state: S, store: BaseStore) -> dict[str, Any]:
        await store.aput(("a",), "k", {"v": 2})
        item = await store.aget(("a",), "k")
        return {"seen": [str(item.value["v"])]}  # type: ignore[union-attr]

    builder = StateGraph(S)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    assert asyncio.run(builder.compile(store=store).ainvoke({}))["seen"] == ["2"]

    @entrypoint(store=store)
    def count(inputs: dict[str, Any], *, store: BaseStore) -> int:
        store.put(("counts",), "c", {"n": inputs["n"]})
        return len(store.search(("a",)))

    assert count.invoke({"n": 7}) == 1
    assert store.get(("counts",), "c").value == {"n": 7}  # type: ignore[union-attr]


def test_without_a_store_nodes_get_none() -> None:
    builder = StateGraph(S)
    builder.add_node("n", lambda s, store: {"seen": [repr(store)]})
    builder.add_edge(START, "n")
    assert builder.compile().invoke({})["seen"] == ["None"]
