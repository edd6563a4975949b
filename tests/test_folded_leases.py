"""Runs on a saver that folds the thread's lease into its first load and last write.

``FoldingSaver`` offers ``FoldedLeases`` over the in-memory saver and logs every
store call, so each test can check what a run did: take the lease with its
first load, store, and give the lease back with the write it stops on, never
storing anything after that write; or, when a run ends without such a write,
give the lease back on its own.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.base import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.checkpoint.capabilities import BlockingFoldedTwins, FoldedLeases
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import GraphRecursionError, StorageError, ThreadBusyError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, Send, interrupt

CFG = {"configurable": {"thread_id": "t"}}
RELEASING = {"save_released", "save_writes_released", "release_lease"}


class FoldingSaver(BlockingFoldedTwins, InMemorySaver):
    """The in-memory saver offering ``FoldedLeases``, with a log of store calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.fail_last_write = False

    def load(
        self, thread_id: str, ns: str = "", checkpoint_id: str | None = None
    ) -> StoredCheckpoint | None:
        self.calls.append("load")
        return super().load(thread_id, ns, checkpoint_id)

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        self.calls.append("save")
        super().save(checkpoint, parent_writes, final=final)

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self.calls.append("save_writes")
        super().save_writes(thread_id, ns, checkpoint_id, writes)

    def acquire_lease(self, thread_id: str, owner: str, ttl: float) -> bool:
        self.calls.append("acquire_lease")
        return super().acquire_lease(thread_id, owner, ttl)

    def release_lease(self, thread_id: str, owner: str) -> None:
        self.calls.append("release_lease")
        super().release_lease(thread_id, owner)

    def load_leased(
        self, thread_id: str, ns: str, checkpoint_id: str | None, owner: str, ttl: float
    ) -> tuple[bool, StoredCheckpoint | None]:
        self.calls.append("load_leased")
        if not InMemorySaver.acquire_lease(self, thread_id, owner, ttl):
            return False, None
        return True, InMemorySaver.load(self, thread_id, ns, checkpoint_id)

    def save_released(
        self, checkpoint: Checkpoint, parent_writes: Sequence[PendingWrite], owner: str
    ) -> None:
        self.calls.append("save_released")
        if self.fail_last_write:
            raise StorageError("the server went away")
        InMemorySaver.save(self, checkpoint, parent_writes)
        InMemorySaver.release_lease(self, checkpoint.thread_id, owner)

    def save_writes_released(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[PendingWrite],
        owner: str,
    ) -> None:
        self.calls.append("save_writes_released")
        InMemorySaver.save_writes(self, thread_id, ns, checkpoint_id, writes)
        InMemorySaver.release_lease(self, thread_id, owner)

    def run_log(self) -> list[str]:
        """The calls since the last look, then forgets them."""
        out, self.calls = self.calls, []
        return out


def assert_folded(saver: FoldingSaver, last: str) -> list[str]:
    """The run took its lease with its first load, stored nothing after ``last``, and is free."""
    log = saver.run_log()
    assert log[0] == "load_leased"
    assert log[-1] == last
    assert [c for c in log if c in RELEASING] == [last]
    assert "acquire_lease" not in log
    assert saver.acquire_lease("t", "probe", 30) is True
    saver.release_lease("t", "probe")
    saver.run_log()
    return log


class S(TypedDict):
    n: int
    log: Annotated[list[str], operator.add]


def _graph(saver: FoldingSaver, *, ask: bool = False, fail: bool = False, **compile_kw: Any) -> Any:
    def a(s: S) -> dict[str, Any]:
        return {"n": s["n"] + 1, "log": ["a"]}

    def b(s: S) -> dict[str, Any]:
        if fail:
            raise ValueError("b broke")
        if ask:
            return {"n": s["n"] + interrupt("how many?"), "log": ["b"]}
        return {"n": s["n"] * 10, "log": ["b"]}

    g = StateGraph(S)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g.compile(checkpointer=saver, **compile_kw)


def test_a_finished_run_gives_the_lease_back_with_its_last_save() -> None:
    saver = FoldingSaver()
    assert _graph(saver).invoke({"n": 1, "log": []}, CFG) == {"n": 20, "log": ["a", "b"]}
    assert assert_folded(saver, "save_released").count("save") == 3  # input, step 0, step 1


def test_a_pause_gives_the_lease_back_with_its_writes_and_the_resume_takes_it() -> None:
    saver = FoldingSaver()
    app = _graph(saver, ask=True)
    app.invoke({"n": 1, "log": []}, CFG)
    assert_folded(saver, "save_writes_released")
    assert app.invoke(Command(resume=5), CFG)["n"] == 7
    assert_folded(saver, "save_released")


@pytest.mark.parametrize("durability", ["async", "exit"])
def test_other_durabilities_fold_the_same_way(durability: str) -> None:
    saver = FoldingSaver()
    app = _graph(saver, ask=True)
    app.invoke({"n": 1, "log": []}, CFG, durability=durability)
    assert_folded(saver, "save_writes_released")
    assert app.invoke(Command(resume=5), CFG, durability=durability)["n"] == 7
    assert_folded(saver, "save_released")


def test_a_failing_node_gives_the_lease_back_with_the_error_writes() -> None:
    saver = FoldingSaver()
    with pytest.raises(ValueError, match="b broke"):
        _graph(saver, fail=True).invoke({"n": 1, "log": []}, CFG)
    assert_folded(saver, "save_writes_released")


@pytest.mark.parametrize("breakpoint", ["interrupt_before", "interrupt_after"])
def test_a_breakpoint_stop_gives_the_lease_back_with_its_save(breakpoint: str) -> None:
    saver = FoldingSaver()
    app = _graph(saver, **{breakpoint: ["b"] if breakpoint == "interrupt_before" else ["a"]})
    app.invoke({"n": 1, "log": []}, CFG)
    assert_folded(saver, "save_released")
    assert app.get_state(CFG).next == ("b",)
    saver.run_log()
    assert app.invoke(None, CFG)["n"] == 20
    assert_folded(saver, "save_released")


def test_the_step_budget_gives_the_lease_back_with_the_last_save() -> None:
    saver = FoldingSaver()
    with pytest.raises(GraphRecursionError):
        _graph(saver).invoke({"n": 1, "log": []}, {**CFG, "recursion_limit": 1})
    assert_folded(saver, "save_released")


def test_parallel_tasks_store_their_writes_before_the_last_save() -> None:
    class Bag(TypedDict):
        items: Annotated[list[int], operator.add]

    g = StateGraph(Bag)
    g.add_node("split", lambda s: {})
    g.add_node("work", lambda arg: {"items": [arg["i"]]})
    g.add_edge(START, "split")
    g.add_conditional_edges("split", lambda s: [Send("work", {"i": i}) for i in range(3)])
    g.add_edge("work", END)
    saver = FoldingSaver()
    assert sorted(g.compile(checkpointer=saver).invoke({"items": []}, CFG)["items"]) == [0, 1, 2]
    assert assert_folded(saver, "save_released").count("save_writes") == 3


def test_a_subgraph_run_stores_inside_the_parents_lease() -> None:
    class Inner(TypedDict):
        n: int

    inner = StateGraph(Inner)
    inner.add_node("ask", lambda s: {"n": s["n"] + interrupt("more?")})
    inner.add_edge(START, "ask")
    outer = StateGraph(Inner)
    outer.add_node("sub", inner.compile())
    outer.add_edge(START, "sub")
    saver = FoldingSaver()
    app = outer.compile(checkpointer=saver)
    app.invoke({"n": 1}, CFG)
    assert_folded(saver, "save_writes_released")
    assert app.invoke(Command(resume=2), CFG) == {"n": 3}
    assert_folded(saver, "save_released")


def test_a_replay_from_an_older_checkpoint_forks_inside_the_lease() -> None:
    saver = FoldingSaver()
    app = _graph(saver)
    app.invoke({"n": 1, "log": []}, CFG)
    saver.run_log()
    after_a = next(s for s in app.get_state_history(CFG) if s.next == ("b",))
    saver.run_log()
    replay = {"configurable": {**CFG["configurable"], **after_a.config["configurable"]}}
    assert app.invoke(None, replay)["n"] == 20
    log = assert_folded(saver, "save_released")
    assert log.count("save") == 1  # the fork; then step 2, saved with the release


def test_a_run_without_a_last_write_gives_the_lease_back_on_its_own() -> None:
    saver = FoldingSaver()
    app = _graph(saver)
    app.invoke({"n": 1, "log": []}, CFG)
    saver.run_log()
    app.invoke(None, CFG)  # nothing left to run: nothing is written
    assert saver.run_log() == ["load_leased", "release_lease"]
    assert saver.acquire_lease("t", "probe", 30) is True


def test_a_busy_thread_is_refused_before_anything_is_stored() -> None:
    saver = FoldingSaver()
    saver.acquire_lease("t", "someone else", 30)
    saver.run_log()
    with pytest.raises(ThreadBusyError, match="'t' is already running"):
        _graph(saver).invoke({"n": 1, "log": []}, CFG)
    assert saver.run_log() == ["load_leased"]
    assert saver.load("t") is None


def test_a_failed_last_write_still_gives_the_lease_back() -> None:
    saver = FoldingSaver()
    saver.fail_last_write = True
    with pytest.raises(StorageError, match="went away"):
        _graph(saver).invoke({"n": 1, "log": []}, CFG)
    log = saver.run_log()
    assert log[-2:] == ["save_released", "release_lease"]
    assert saver.acquire_lease("t", "probe", 30) is True


def test_async_runs_fold_the_same_way() -> None:
    saver = FoldingSaver()
    app = _graph(saver, ask=True)
    asyncio.run(app.ainvoke({"n": 1, "log": []}, CFG))
    assert_folded(saver, "save_writes_released")
    assert asyncio.run(app.ainvoke(Command(resume=5), CFG))["n"] == 7
    assert_folded(saver, "save_released")


def test_the_folding_saver_is_recognised() -> None:
    assert isinstance(FoldingSaver(), FoldedLeases)
    assert not isinstance(InMemorySaver(), FoldedLeases)
