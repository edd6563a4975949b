"""Which saves a run marks ``final`` (the one it stops after; savers may skip
the disk flush for the others, as the Postgres saver does), and what every
saver's ``with`` does."""

from __future__ import annotations

import asyncio
import operator
import time
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

import pytest

from pausegraph.checkpoint.base import Checkpoint, PendingWrite
from pausegraph.checkpoint.capabilities import BlockingFoldedTwins, SaveItem, WritesItem
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.runtime._store import FLUSH_SECONDS
from pausegraph.types import Command, Send, interrupt, once

CFG = {"configurable": {"thread_id": "t"}}


class RecordingSaver(InMemorySaver):
    """Remembers (step, final) for every save."""

    def __init__(self) -> None:
        super().__init__()
        self.saves: list[tuple[int, bool]] = []

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        self.saves.append((checkpoint.step, final))
        super().save(checkpoint, parent_writes, final=final)


class S(TypedDict):
    n: int


def _two_steps(ask: bool = False) -> StateGraph[Any]:
    def a(s: S) -> dict[str, int]:
        return {"n": s["n"] + 1}

    def b(s: S) -> dict[str, int]:
        if ask:
            return {"n": s["n"] + interrupt("how many?")}
        return {"n": s["n"] * 10}

    return _a_then_b(S, a, b)


def _a_then_b(schema: Any, a: Any, b: Any) -> StateGraph[Any]:
    """START -> a -> b -> END."""
    g: StateGraph[Any] = StateGraph(schema)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(START, "a")
    g.add_edge("a", "b")
    g.add_edge("b", END)
    return g


def test_only_the_save_a_run_ends_on_is_final() -> None:
    saver = RecordingSaver()
    app = _two_steps().compile(checkpointer=saver)

    assert app.invoke({"n": 1}, CFG) == {"n": 20}

    assert saver.saves == [(-1, False), (0, False), (1, False), (2, True)]


def test_async_runs_mark_the_same_saves_final() -> None:
    saver = RecordingSaver()
    app = _two_steps().compile(checkpointer=saver)

    assert asyncio.run(app.ainvoke({"n": 1}, CFG)) == {"n": 20}

    assert saver.saves == [(-1, False), (0, False), (1, False), (2, True)]


def test_a_static_breakpoint_makes_the_save_before_it_final() -> None:
    saver = RecordingSaver()
    app = _two_steps().compile(checkpointer=saver, interrupt_after=["a"])

    app.invoke({"n": 1}, CFG)

    assert saver.saves == [(-1, False), (0, False), (1, True)]
    assert app.get_state(CFG).next == ("b",)


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_run_that_pauses_in_a_node_is_resumable(durability: str) -> None:
    # The pause itself is stored by a (flushing) write after the mid-run saves.
    saver = RecordingSaver()
    app = _two_steps(ask=True).compile(checkpointer=saver)

    app.invoke({"n": 1}, CFG, durability=durability)

    assert saver.saves == [(-1, False), (0, False), (1, False)]
    assert app.get_state(CFG).interrupts[0].value == "how many?"
    assert app.invoke(Command(resume=5), CFG, durability=durability) == {"n": 7}
    assert saver.saves[-1] == (2, True)


def test_every_saver_is_its_own_context_manager_and_stays_usable(saver: Any) -> None:
    # ``with saver:`` (as LangGraph users write) closes nothing: the
    # connection belongs to whoever opened it.
    with saver as entered:
        assert entered is saver

    async def enter_async() -> Any:
        async with saver as entered:
            return entered

    assert asyncio.run(enter_async()) is saver
    app = _two_steps().compile(checkpointer=saver)
    assert app.invoke({"n": 1}, CFG) == {"n": 20}


# -- writes held back and stored together (runtime/_store.py) ---------------------


class BatchingSaver(BlockingFoldedTwins, InMemorySaver):
    """Offers ``BatchedWrites``; logs saves, batches and the nodes' runs in one list."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Any] = []

    def save(
        self,
        checkpoint: Checkpoint,
        parent_writes: Sequence[PendingWrite] = (),
        *,
        final: bool = True,
    ) -> None:
        self.log.append(("save", checkpoint.step, final))
        super().save(checkpoint, parent_writes, final=final)

    def save_writes(
        self, thread_id: str, ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
    ) -> None:
        self.log.append(("writes", tuple(w.channel for w in writes)))
        super().save_writes(thread_id, ns, checkpoint_id, writes)

    def write_batch(
        self,
        items: Sequence[SaveItem | WritesItem],
        *,
        final: bool = False,
        release: str | None = None,
    ) -> None:
        shown = [
            i.checkpoint.step if isinstance(i, SaveItem) else tuple(w.channel for w in i.writes)
            for i in items
        ]
        self.log.append(("batch", shown, final))
        for item in items:
            if isinstance(item, SaveItem):
                InMemorySaver.save(self, *item)
            else:
                InMemorySaver.save_writes(self, *item)


class Log(TypedDict):
    n: int
    items: Annotated[list[int], operator.add]


def _logged(saver: BatchingSaver, *, slow_a: float = 0, fail_b: bool = False) -> Any:
    def a(s: Log) -> dict[str, Any]:
        saver.log.append(("node", "a"))
        time.sleep(slow_a)
        return {"n": s["n"] + 1}

    def b(s: Log) -> dict[str, Any]:
        saver.log.append(("node", "b"))
        if fail_b:
            raise ValueError("b broke")
        return {"n": s["n"] * 10}

    return _a_then_b(Log, a, b).compile(checkpointer=saver)


def test_sync_stores_each_checkpoint_before_the_next_node_runs() -> None:
    saver = BatchingSaver()
    assert _logged(saver).invoke({"n": 1, "items": []}, CFG)["n"] == 20
    assert saver.log == [
        ("batch", [-1, 0], False),  # the input checkpoint travels with the first step's
        ("node", "a"),
        ("save", 1, False),
        ("node", "b"),
        ("save", 2, True),
    ]


def test_sync_stores_what_a_stream_reports_before_reporting_it() -> None:
    saver = BatchingSaver()
    app = _logged(saver)
    for chunk in app.stream({"n": 1, "items": []}, CFG, stream_mode="values"):
        stored = saver.load("t")
        assert stored is not None and stored.checkpoint.values["n"] == chunk["n"]


def test_async_stores_a_fast_run_in_one_batch_when_it_stops() -> None:
    saver = BatchingSaver()
    assert _logged(saver).invoke({"n": 1, "items": []}, CFG, durability="async")["n"] == 20
    assert saver.log == [("node", "a"), ("node", "b"), ("batch", [-1, 0, 1, 2], True)]


def test_async_stores_held_writes_before_a_step_once_they_are_old_enough() -> None:
    saver = BatchingSaver()
    app = _logged(saver, slow_a=2 * FLUSH_SECONDS)
    app.invoke({"n": 1, "items": []}, CFG, durability="async")
    assert saver.log == [
        ("node", "a"),
        ("batch", [-1, 0, 1], False),  # held since before `a`: stored before `b` runs
        ("node", "b"),
        ("save", 2, True),
    ]


def test_async_stores_held_writes_with_a_failure() -> None:
    saver = BatchingSaver()
    with pytest.raises(ValueError, match="b broke"):
        _logged(saver, fail_b=True).invoke({"n": 1, "items": []}, CFG, durability="async")
    assert saver.log[-1] == ("batch", [-1, 0, 1, ("__error__",)], True)
    assert app_state_n(saver) == 2


def app_state_n(saver: BatchingSaver) -> int:
    stored = saver.load("t")
    assert stored is not None
    return int(stored.checkpoint.values["n"])


def test_async_stores_a_once_result_at_once_with_what_was_held() -> None:
    saver = BatchingSaver()

    def pay(s: Log) -> dict[str, Any]:
        receipt = once(lambda: 42)
        saver.log.append(("node", "pay"))
        return {"n": receipt}

    g: StateGraph[Any] = StateGraph(Log)
    g.add_node("pay", pay)
    g.add_edge(START, "pay")
    assert (
        g.compile(checkpointer=saver).invoke({"n": 0, "items": []}, CFG, durability="async")["n"]
        == 42
    )
    assert saver.log[0] == ("batch", [-1, 0, ("__journal__",)], False)
    assert saver.log[1:] == [("node", "pay"), ("save", 1, True)]


def test_async_holds_parallel_tasks_writes_with_the_step() -> None:
    g: StateGraph[Any] = StateGraph(Log)
    g.add_node("split", lambda s: {})
    g.add_node("work", lambda arg: {"items": [arg["i"]]})
    g.add_edge(START, "split")
    g.add_conditional_edges("split", lambda s: [Send("work", {"i": i}) for i in range(2)])
    g.add_edge("work", END)
    saver = BatchingSaver()
    out = g.compile(checkpointer=saver).invoke({"n": 0, "items": []}, CFG, durability="async")
    assert sorted(out["items"]) == [0, 1]
    [(kind, shown, final)] = saver.log
    assert kind == "batch" and final is True
    assert shown[:3] == [-1, 0, 1] and shown[-1] == 2
    # each worker's writes, held as it finished, stored before the step's checkpoint
    assert len(shown) == 6 and all("__writes__" in w for w in shown[3:5])
