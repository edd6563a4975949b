"""Replays and forks from old checkpoints, durability modes, reopening a store.

Expected values come from notes Q15 and Q18; each test runs on every saver.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pausegraph.types import Command

CFG = {"configurable": {"thread_id": "t1"}}


def summary(history: list[Any]) -> list[tuple[int, str, tuple[str, ...], dict[str, Any]]]:
    return [(s.metadata["step"], s.metadata["source"], s.next, s.values) for s in history]


def finished_seed(make_seed: Any) -> tuple[Any, list[Any], Any]:
    """A finished "hi" run, its history, and its checkpoint that is about to run step_2."""
    seed = make_seed()
    seed.graph.invoke({"input": "hi"}, CFG)
    history = list(seed.graph.get_state_history(CFG))
    target = next(s for s in history if s.next == ("step_2",))
    seed.calls.clear()
    return seed, history, target


def test_invoking_an_old_checkpoint_replays_only_later_nodes_on_a_fork(make_seed):
    seed, old, target = finished_seed(make_seed)

    assert seed.graph.invoke(None, target.config) == {"input": "hi!"}

    assert seed.calls == ["step_2", "step_3"]
    history = list(seed.graph.get_state_history(CFG))
    assert len(history) == 8
    assert summary(history) == [
        (4, "loop", (), {"input": "hi!"}),
        (3, "loop", ("step_3",), {"input": "hi"}),
        (2, "fork", ("step_2",), {"input": "hi"}),
        *summary(old),
    ]
    head, after_fork, fork = history[:3]
    assert history[3:] == old  # the old branch is untouched
    assert fork.parent_config == target.config
    assert after_fork.parent_config == fork.config
    assert head.parent_config == after_fork.config
    assert seed.graph.get_state(CFG).config == head.config


def test_history_of_a_config_with_a_checkpoint_id_is_that_checkpoint_alone(make_seed):
    # As LangGraph: the checkpoint_id in the config selects; `before=` pages.
    seed, old, target = finished_seed(make_seed)

    assert list(seed.graph.get_state_history(target.config)) == [target]

    async def alist() -> list[Any]:
        return [s async for s in seed.graph.aget_state_history(target.config)]

    assert asyncio.run(alist()) == [target]
    assert list(seed.graph.get_state_history(target.config, filter={"source": "input"})) == []
    assert (
        list(seed.graph.get_state_history(CFG, before=target.config))
        == old[old.index(target) + 1 :]
    )


def test_replay_streams_the_target_state_first(make_seed):
    seed, _, target = finished_seed(make_seed)

    chunks = list(seed.graph.stream(None, target.config, stream_mode="values"))

    assert chunks == [{"input": "hi"}, {"input": "hi"}, {"input": "hi!"}]


def test_replay_reports_the_fork_checkpoint_once_after_its_values(make_seed):
    """The fork a replay starts from is one checkpoint event, after the first values chunk.

    Checked against LangGraph 1.2.22 (stream_mode ["checkpoints", "values"] and
    "debug" on the config of an old checkpoint): values, then the fork
    checkpoint (source "fork", next ["step_2"]), then the replayed steps.
    """
    seed, _, target = finished_seed(make_seed)

    chunks = list(seed.graph.stream(None, target.config, stream_mode=["checkpoints", "values"]))

    shown = [
        (mode, (c["metadata"]["source"], c["next"]) if mode == "checkpoints" else c)
        for mode, c in chunks
    ]
    assert shown[:3] == [
        ("values", {"input": "hi"}),
        ("checkpoints", ("fork", ["step_2"])),
        ("values", {"input": "hi"}),
    ]
    assert [c for mode, c in shown if mode == "checkpoints"][1:] == [
        ("loop", ["step_3"]),
        ("loop", []),
    ]
    debug = list(seed.graph.stream(None, target.config, stream_mode="debug"))
    assert [d["type"] for d in debug][:2] == ["checkpoint", "task"]


def test_update_on_an_old_checkpoint_forks_and_becomes_the_head(make_seed):
    seed, old, target = finished_seed(make_seed)

    returned = seed.graph.update_state(target.config, {"input": "fk"})

    head = seed.graph.get_state(CFG)
    assert head.config == returned
    assert head.metadata == {"source": "update", "step": 2, "parents": {}}
    assert head.parent_config == target.config
    assert (head.values, head.next) == ({"input": "fk"}, ("step_2",))
    assert seed.graph.invoke(None, CFG) == {"input": "fk!"}
    assert seed.calls == ["step_2", "step_3"]
    assert len(list(seed.graph.get_state_history(CFG))) == len(old) + 3


def test_update_on_an_old_checkpoint_then_resume_an_interrupt_there(make_seed):
    seed, old, target = finished_seed(make_seed)
    returned = seed.graph.update_state(target.config, {"input": "forked"})

    chunks = list(seed.graph.stream(None, returned, stream_mode="values"))

    assert chunks[:-1] == [{"input": "forked"}]
    (pending,) = chunks[-1].pop("__interrupt__")
    assert chunks[-1] == {"input": "forked"}
    assert pending.value == {"question": "too long", "input": "forked"}
    assert len(list(seed.graph.get_state_history(CFG))) == len(old) + 1  # no checkpoint added
    assert seed.graph.get_state(CFG).interrupts == (pending,)

    assert seed.graph.invoke(Command(resume="ok"), CFG) == {"input": "ok!"}
    assert seed.calls == ["step_2", "step_2", "step_3"]


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_sync_and_async_durability_keep_every_checkpoint(make_seed, durability):
    seed = make_seed()

    assert seed.graph.invoke({"input": "hi"}, CFG, durability=durability) == {"input": "hi!"}

    history = list(seed.graph.get_state_history(CFG))
    assert [s.metadata["step"] for s in history] == [3, 2, 1, 0, -1]


def test_exit_durability_keeps_only_the_final_checkpoint(make_seed):
    seed = make_seed()

    assert seed.graph.invoke({"input": "hi"}, CFG, durability="exit") == {"input": "hi!"}

    history = list(seed.graph.get_state_history(CFG))
    assert summary(history) == [(3, "loop", (), {"input": "hi!"})]
    assert seed.graph.get_state(CFG).values == {"input": "hi!"}


def test_exit_durability_still_pauses_and_resumes(make_seed):
    seed = make_seed()

    paused = seed.graph.invoke({"input": "hello world"}, CFG, durability="exit")

    (pending,) = paused.pop("__interrupt__")
    assert paused == {"input": "hello world"}
    assert summary(list(seed.graph.get_state_history(CFG))) == [
        (1, "loop", ("step_2",), {"input": "hello world"}),
    ]
    assert seed.graph.get_state(CFG).interrupts == (pending,)

    resumed = seed.graph.invoke(Command(resume="ok"), CFG, durability="exit")

    assert resumed == {"input": "ok!"}
    assert seed.calls == ["step_1", "step_2", "step_2", "step_3"]
    history = list(seed.graph.get_state_history(CFG))
    assert [(s.metadata["step"], s.next) for s in history] == [(3, ()), (1, ("step_2",))]
    assert history[0].values == {"input": "ok!"}


def test_a_thread_survives_a_new_saver_on_the_same_sqlite_file(sqlite_saver_cls, seed_on, tmp_path):
    path = str(tmp_path / "reopen.db")
    with sqlite_saver_cls.from_conn_string(path) as first:
        first.setup()
        seed = seed_on(first)
        paused = seed.graph.invoke({"input": "hello world"}, CFG)
        before = list(seed.graph.get_state_history(CFG))

    with sqlite_saver_cls.from_conn_string(path) as second:
        second.setup()  # safe to call again on an existing database
        seed = seed_on(second)
        assert list(seed.graph.get_state_history(CFG)) == before
        assert seed.graph.get_state(CFG).interrupts == tuple(paused["__interrupt__"])

        assert seed.graph.invoke(Command(resume="ok"), CFG) == {"input": "ok!"}
        assert seed.calls == ["step_2", "step_3"]
        assert len(list(seed.graph.get_state_history(CFG))) == 5
