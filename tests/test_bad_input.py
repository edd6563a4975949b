"""Refused calls: each raises a pausegraph error that says what was wrong and how to fix
it, and leaves the stored thread exactly as it was. Each test runs on every saver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pausegraph.constants import END
from pausegraph.errors import (
    EmptyInputError,
    InvalidConfigError,
    InvalidUpdateError,
    NothingToResumeError,
    PauseGraphError,
    ResumeError,
    SerializationError,
    UnknownInterruptError,
)
from pausegraph.types import Command

CFG = {"configurable": {"thread_id": "t1"}}


def refused(
    graph: Any,
    config: dict[str, Any],
    call: Callable[[], Any],
    error: type[Exception],
    *phrases: str,
) -> Exception:
    """Runs ``call``, checks it raises ``error`` naming every phrase and changes nothing."""
    before = [(s.config, s.values, s.next) for s in graph.get_state_history(config)]
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, PauseGraphError)
    message = str(info.value)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"
    assert [(s.config, s.values, s.next) for s in graph.get_state_history(config)] == before
    return info.value


def paused(make_seed: Any) -> Any:
    seed = make_seed()
    assert "__interrupt__" in seed.graph.invoke({"input": "hello world"}, CFG)
    return seed


# -- resuming what cannot be resumed ------------------------------------------------


def test_resuming_a_finished_thread(make_seed):
    seed = make_seed()
    seed.graph.invoke({"input": "hi"}, CFG)
    seed.calls.clear()

    refused(
        seed.graph, CFG, lambda: seed.graph.invoke(Command(resume="x"), CFG),
        NothingToResumeError, "'t1'", "no pending interrupt", "finished", "invoke(",
    )  # fmt: skip
    assert seed.calls == []


def test_resuming_a_fresh_thread(make_seed):
    seed = make_seed()
    fresh = {"configurable": {"thread_id": "fresh"}}

    refused(
        seed.graph, fresh, lambda: seed.graph.invoke(Command(resume="x"), fresh),
        NothingToResumeError, "'fresh'", "nothing to resume", "input",
    )  # fmt: skip
    assert seed.calls == []
    assert list(seed.graph.get_state_history(fresh)) == []


@pytest.mark.parametrize("config", [None, CFG], ids=["no-config", "with-thread-id"])
def test_resume_without_a_checkpointer(seed_on, config):
    seed = seed_on(None)

    with pytest.raises(InvalidConfigError) as info:
        seed.graph.invoke(Command(resume="x"), config)

    assert "checkpointer" in str(info.value)
    assert "checkpointer=InMemorySaver()" in str(info.value)
    assert seed.calls == []


@pytest.mark.parametrize("config", [None, {}, {"configurable": {}}], ids=["none", "empty", "no-id"])
def test_a_checkpointer_needs_a_thread_id(make_seed, config):
    seed = make_seed()

    with pytest.raises(InvalidConfigError) as info:
        seed.graph.invoke({"input": "hi"}, config)

    assert "thread_id" in str(info.value)
    assert "config={'configurable': {'thread_id':" in str(info.value)
    assert seed.calls == []


@pytest.mark.parametrize("thread_id", [{"id": 1}, ["t1"]], ids=["dict", "list"])
def test_thread_id_of_the_wrong_type(make_seed, thread_id):
    seed = make_seed()

    with pytest.raises(InvalidConfigError) as info:
        seed.graph.invoke({"input": "hi"}, {"configurable": {"thread_id": thread_id}})

    message = str(info.value)
    assert "thread_id" in message and type(thread_id).__name__ in message
    assert repr(thread_id) in message
    assert "str" in message
    assert seed.calls == []


def test_an_unknown_interrupt_id(make_seed):
    seed = paused(make_seed)
    (pending,) = seed.graph.get_state(CFG).interrupts
    unknown = "0" * 32

    error = refused(
        seed.graph, CFG, lambda: seed.graph.invoke(Command(resume={unknown: "x"}), CFG),
        UnknownInterruptError, unknown, pending.id, "get_state(config).interrupts",
    )  # fmt: skip
    assert isinstance(error, KeyError) and isinstance(error, ResumeError)
    assert seed.graph.get_state(CFG).interrupts == (pending,)


def test_a_resume_value_that_cannot_be_stored(make_seed):
    seed = paused(make_seed)
    seed.calls.clear()

    error = refused(
        seed.graph, CFG, lambda: seed.graph.invoke(Command(resume=object()), CFG),
        SerializationError, "object", "register",
    )  # fmt: skip
    assert isinstance(error, TypeError)
    assert seed.graph.invoke(Command(resume="ok"), CFG) == {"input": "ok!"}


def test_invoking_a_fresh_thread_with_no_input(make_seed):
    seed = make_seed()

    refused(
        seed.graph, CFG, lambda: seed.graph.invoke(None, CFG),
        EmptyInputError, "no input", "no checkpoint", "input dict",
    )  # fmt: skip
    assert list(seed.graph.get_state_history(CFG)) == []
    assert seed.calls == []


# -- state access without a checkpointer --------------------------------------------


@pytest.mark.parametrize(
    ("what", "call"),
    [
        ("get_state()", lambda g: g.get_state(CFG)),
        ("get_state_history()", lambda g: list(g.get_state_history(CFG))),
        ("update_state()", lambda g: g.update_state(CFG, {"input": "x"})),
    ],
)
def test_state_access_without_a_checkpointer(seed_on, what, call):
    graph = seed_on(None).graph

    with pytest.raises(InvalidConfigError) as info:
        call(graph)

    message = str(info.value)
    assert "No checkpointer" in message and what in message
    assert "checkpointer=InMemorySaver()" in message


# -- updates that do not fit --------------------------------------------------------


def test_update_as_a_node_that_does_not_exist(make_seed):
    seed = paused(make_seed)

    refused(
        seed.graph, CFG, lambda: seed.graph.update_state(CFG, {"input": "x"}, as_node="nope"),
        InvalidUpdateError, "'nope'", "does not exist", "'step_1', 'step_2', 'step_3'",
    )  # fmt: skip


def test_update_as_end_with_values_on_a_paused_thread(make_seed):
    seed = paused(make_seed)

    refused(
        seed.graph, CFG, lambda: seed.graph.update_state(CFG, {"input": "x"}, as_node=END),
        InvalidUpdateError, "as_node=END", "values=None",
    )  # fmt: skip


@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.update_state(CFG, {"bogus": 1}),
        lambda g: g.update_state(CFG, {"input": "x", "bogus": 1}, as_node="step_2"),
        lambda g: g.invoke({"input": "x", "bogus": 1}, CFG),
        lambda g: g.invoke(Command(resume="ok", update={"bogus": 1}), CFG),
    ],
    ids=["update_state", "update_state-as-node", "input", "command-update"],
)
def test_a_state_update_with_an_unknown_key(make_seed, call):
    seed = paused(make_seed)
    seed.calls.clear()

    refused(
        seed.graph, CFG, lambda: call(seed.graph),
        InvalidUpdateError, "'bogus'", "SeedState", "'input'",
    )  # fmt: skip
    assert seed.calls == []


@pytest.mark.parametrize("thread", ["fresh", "t1"], ids=["fresh-thread", "paused-thread"])
@pytest.mark.parametrize("value", [5, "abc", [("input", "x")]], ids=["int", "str", "pairs"])
def test_an_input_that_is_not_a_dict(make_seed, thread, value):
    seed = paused(make_seed)
    seed.calls.clear()
    config = {"configurable": {"thread_id": thread}}

    refused(
        seed.graph, config, lambda: seed.graph.invoke(value, config),
        InvalidUpdateError, "Expected dict", str(value), "dict of state values",
    )  # fmt: skip
    assert seed.calls == []
