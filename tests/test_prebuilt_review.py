"""with_human_review: tool calls a person accepts, edits, answers or ignores (Agent Inbox)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _tool_agents import CFG, agent_graph, ai, call
from pausegraph.errors import GraphBuildError, ResumeValidationError
from pausegraph.prebuilt import with_human_review
from pausegraph.types import Command

# These tests build and read dict messages (LangChain ones: test_prebuilt_langchain.py).
pytestmark = pytest.mark.usefixtures("dict_messages")

EMAIL = {"to": "ada@example.com", "subject": "Lunch"}
FULL_CONFIG = {
    "allow_accept": True,
    "allow_edit": True,
    "allow_respond": True,
    "allow_ignore": True,
}


class Outbox:
    """A tool that records what it sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

        def send_email(to: str, subject: str, urgent: bool = False) -> str:
            """Send an email."""
            self.sent.append((to, subject))
            return f"sent to {to}: {subject}"

        self.tool = send_email


def start(config: dict[str, bool] | None = None, saver: Any = None) -> tuple[Any, Outbox, Any]:
    """An agent whose one email call waits for review; returns (graph, outbox, interrupt)."""
    outbox = Outbox()
    reviewed = with_human_review(outbox.tool, config)
    graph = agent_graph(
        [reviewed], [ai(call("send_email", **EMAIL)), ai(content="done")], saver
    ).graph
    paused = graph.invoke({"messages": [{"role": "user", "content": "invite Ada"}]}, CFG)
    [pending] = paused["__interrupt__"]
    return graph, outbox, pending


def answers_of(result: dict[str, Any]) -> list[Any]:
    return [m["content"] for m in result["messages"][2:]]


def test_the_request_has_the_agent_inbox_shape() -> None:
    _, outbox, pending = start({"allow_ignore": False}, None)
    assert pending.value == {
        "action_request": {"action": "send_email", "args": EMAIL},
        "config": {**FULL_CONFIG, "allow_ignore": False},
        "description": (
            'Review this call to send_email. Answer with "accept" (run it as it is), '
            '"edit" (change its arguments, then run it), "response" (do not run it; your '
            "text goes to the model as its result)."
        ),
    }
    assert pending.response_schema is not None and outbox.sent == []


def test_the_wrapper_looks_like_the_tool() -> None:
    tool = Outbox().tool
    reviewed = with_human_review(tool, description="Check the recipient.")
    assert reviewed.__name__ == "send_email" and reviewed.__doc__ == "Send an email."
    assert inspect.signature(reviewed) == inspect.signature(tool)


@pytest.mark.parametrize(
    ("answer", "sent", "result"),
    [
        ({"type": "accept"}, [("ada@example.com", "Lunch")], "sent to ada@example.com: Lunch"),
        ({"type": "accept", "args": None}, [("ada@example.com", "Lunch")], None),
        (
            {
                "type": "edit",
                "args": {
                    "action": "send_email",
                    "args": {"to": "bob@example.com", "subject": "Hi"},
                },
            },
            [("bob@example.com", "Hi")],
            "sent to bob@example.com: Hi",
        ),
        ({"type": "response", "args": "Not Ada, she is away."}, [], "Not Ada, she is away."),
        (
            {"type": "ignore"},
            [],
            "The reviewer ignored this call to send_email; it was not run.",
        ),
    ],
    ids=["accept", "accept-null-args", "edit", "response", "ignore"],
)
def test_each_answer_type(answer: dict[str, Any], sent: list[Any], result: str | None) -> None:
    graph, outbox, pending = start()
    final = graph.invoke(Command(resume={pending.id: answer}), CFG)
    assert outbox.sent == sent
    assert answers_of(final)[-1] == "done"
    if result is not None:
        assert answers_of(final)[0] == result
    tool_message = final["messages"][2]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "c1"


REFUSED = [
    ({"type": "approve"}, FULL_CONFIG),
    ("yes", FULL_CONFIG),
    ({"type": "accept", "note": "extra"}, FULL_CONFIG),
    ({"type": "response"}, FULL_CONFIG),
    ({"type": "response", "args": {"text": "no"}}, FULL_CONFIG),
    ({"type": "edit", "args": "bob@example.com"}, FULL_CONFIG),
    ({"type": "edit", "args": {"action": "delete_all", "args": EMAIL}}, FULL_CONFIG),
    ({"type": "edit", "args": {"action": "send_email", "args": {"to": "bob"}}}, FULL_CONFIG),
    ({"type": "edit", "args": {"action": "send_email", "args": {**EMAIL, "cc": "x"}}}, FULL_CONFIG),
    (
        {"type": "edit", "args": {"action": "send_email", "args": {**EMAIL, "urgent": 1}}},
        FULL_CONFIG,
    ),
    ({"type": "edit", "args": {"action": "send_email", "args": EMAIL}}, {"allow_edit": False}),
    ({"type": "ignore"}, {"allow_ignore": False}),
    ({"type": "response", "args": "no"}, {"allow_respond": False}),
    ({"type": "accept"}, {"allow_accept": False}),
]


@pytest.mark.parametrize(("answer", "config"), REFUSED)
def test_answers_that_do_not_fit_are_refused_and_the_thread_is_unchanged(
    answer: Any, config: dict[str, bool], view: Callable[..., Any]
) -> None:
    graph, outbox, pending = start(config)
    before = view(graph, CFG)
    with pytest.raises(ResumeValidationError) as info:
        graph.invoke(Command(resume={pending.id: answer}), CFG)
    assert info.value.problems and "The thread is unchanged" in str(info.value)
    assert view(graph, CFG) == before and outbox.sent == []
    assert graph.get_state(CFG).interrupts == (pending,)
    # The same interrupt still takes a good answer.
    allowed = {"type": "accept"} if config.get("allow_accept", True) else None
    good = allowed or {"type": "response", "args": "fine"}
    final = graph.invoke(Command(resume={pending.id: good}), CFG)
    assert answers_of(final)[-1] == "done"


def test_forbidden_edit_is_not_in_the_schema() -> None:
    _, _, pending = start({"allow_edit": False})
    forms = pending.response_schema["anyOf"]
    assert [f["properties"]["type"]["const"] for f in forms] == ["accept", "response", "ignore"]


def test_a_single_allowed_answer_gives_precise_problems() -> None:
    graph, _, pending = start(
        {"allow_respond": False, "allow_ignore": False, "allow_accept": False}
    )
    edit = {"type": "edit", "args": {"action": "send_email", "args": {"to": 7, "subject": "x"}}}
    with pytest.raises(ResumeValidationError) as info:
        graph.invoke(Command(resume={pending.id: edit}), CFG)
    assert info.value.problems == ("answer.args.args.to: expected string, got int 7",)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"allow_edits": True}, "Unknown review config key(s) 'allow_edits'"),
        (dict.fromkeys(FULL_CONFIG, False), "must allow at least one answer"),
    ],
)
def test_bad_configs_are_refused(config: dict[str, bool], message: str) -> None:
    with pytest.raises(GraphBuildError, match=re.escape(message)):
        with_human_review(Outbox().tool, config)


def test_parallel_reviews_are_answered_independently() -> None:
    outbox = Outbox()
    calls = [
        call("send_email", f"c{i}", to=f"{n}@example.com", subject="Hi") for i, n in enumerate("ab")
    ]
    graph = agent_graph([with_human_review(outbox.tool)], [ai(*calls), ai(content="done")]).graph
    paused = graph.invoke({"messages": [{"role": "user", "content": "go"}]}, CFG)
    ids = {i.value["action_request"]["args"]["to"][0]: i.id for i in paused["__interrupt__"]}
    assert len(set(ids.values())) == 2

    graph.invoke(Command(resume={ids["b"]: {"type": "response", "args": "skip b"}}), CFG)
    assert outbox.sent == [] and len(graph.get_state(CFG).interrupts) == 1
    final = graph.invoke(Command(resume={ids["a"]: {"type": "accept"}}), CFG)
    assert outbox.sent == [("a@example.com", "Hi")]
    assert answers_of(final) == ["sent to a@example.com: Hi", "skip b", "done"]


async def test_async_tools_can_be_reviewed() -> None:
    sent: list[str] = []

    async def notify(who: str) -> str:
        """Notify someone."""
        sent.append(who)
        return f"notified {who}"

    turns = [ai(call("notify", who="ada")), ai(content="ok")]
    graph = agent_graph([with_human_review(notify)], turns).graph
    paused = await graph.ainvoke({"messages": [{"role": "user", "content": "go"}]}, CFG)
    edit = {"type": "edit", "args": {"action": "notify", "args": {"who": "bob"}}}
    final = await graph.ainvoke(Command(resume={paused["__interrupt__"][0].id: edit}), CFG)
    assert sent == ["bob"] and answers_of(final) == ["notified bob", "ok"]


def test_reviews_survive_a_restart_on_sqlite(tmp_path: Path, sqlite_saver_cls: Any) -> None:
    """Pause, close the database, answer one review per process lifetime, finish."""
    db = str(tmp_path / "reviews.db")
    outbox = Outbox()
    calls = [
        call("send_email", f"c{i}", to=f"{n}@example.com", subject="Hi") for i, n in enumerate("ab")
    ]

    turns = [ai(*calls), ai(content="done")]  # the model, across "processes"

    def open_agent(saver: Any) -> Any:
        return agent_graph([with_human_review(outbox.tool)], turns, saver).graph

    with sqlite_saver_cls.from_conn_string(db) as saver:
        paused = open_agent(saver).invoke({"messages": [{"role": "user", "content": "go"}]}, CFG)
    ids = {i.value["action_request"]["args"]["to"][0]: i.id for i in paused["__interrupt__"]}

    with sqlite_saver_cls.from_conn_string(db) as saver:
        agent = open_agent(saver)
        agent.invoke(Command(resume={ids["a"]: {"type": "accept"}}), CFG)
        assert [i.id for i in agent.get_state(CFG).interrupts] == [ids["b"]]
    assert outbox.sent == [("a@example.com", "Hi")]

    with sqlite_saver_cls.from_conn_string(db) as saver:
        agent = open_agent(saver)
        edit = {
            "type": "edit",
            "args": {"action": "send_email", "args": {"to": "c@example.com", "subject": "Hi"}},
        }
        final = agent.invoke(Command(resume={ids["b"]: edit}), CFG)
    assert outbox.sent == [("a@example.com", "Hi"), ("c@example.com", "Hi")]
    assert answers_of(final) == ["sent to a@example.com: Hi", "sent to c@example.com: Hi", "done"]
