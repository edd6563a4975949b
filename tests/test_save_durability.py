"""Which saves a run marks ``final`` (the one it stops after; savers may skip
the disk flush for the others, as the Postgres saver does), and what every
saver's ``with`` does."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypedDict

import pytest

from pausegraph.checkpoint.base import Checkpoint, PendingWrite
from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt

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

    g: StateGraph[Any] = StateGraph(S)
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
