"""pausegraph.prebuilt: ToolNode, tools_condition, and a tool-calling agent loop.

Messages are dicts here (langchain-core is not a dependency); the LangChain
flavour is covered in ``test_prebuilt_langchain.py``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from _tool_agents import CFG, agent_graph, ai, call
from pausegraph.errors import GraphBuildError
from pausegraph.prebuilt import ToolInvocationError, ToolNode, ToolNodeError, tools_condition
from pausegraph.types import Command, interrupt

# These tests build and read dict messages (LangChain ones: test_prebuilt_langchain.py).
pytestmark = pytest.mark.usefixtures("dict_messages")

ROOT = Path(__file__).resolve().parent.parent


def run_tools(node: ToolNode, *calls: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool messages ``node`` answers an AI message with (ids dropped)."""
    out = node.invoke({"messages": [{"role": "user", "content": "hi"}, ai(*calls)]})
    return [{k: v for k, v in m.items() if k != "id"} for m in out["messages"]]


def add(a: int, b: int = 0) -> int:
    """Add two numbers."""
    return a + b


def describe(x: str) -> dict[str, Any]:
    """Return a structure."""
    return {"x": x, "é": [1, None]}


# -- public surface ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "pausegraph.prebuilt",
            {
                "ActionRequest",
                "HumanInterrupt",
                "HumanInterruptConfig",
                "HumanResponse",
                "ToolInvocationError",
                "ToolNode",
                "ToolNodeError",
                "create_react_agent",
                "tools_condition",
                "with_human_review",
            },
        ),
        ("pausegraph.prebuilt.tool_node", {"ToolInvocationError", "ToolNode", "tools_condition"}),
        ("pausegraph.prebuilt.chat_agent_executor", {"AgentState", "create_react_agent"}),
        (
            "pausegraph.prebuilt.interrupt",
            {"ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"},
        ),
    ],
)
def test_public_names(module: str, names: set[str]) -> None:
    assert set(importlib.import_module(module).__all__) == names


def test_errors_sit_in_the_tree() -> None:
    from pausegraph.errors import GraphRunError

    assert issubclass(ToolInvocationError, ToolNodeError)
    assert issubclass(ToolNodeError, GraphRunError) and issubclass(ToolNodeError, ValueError)


# -- ToolNode ------------------------------------------------------------------------


def test_runs_plain_functions_and_answers_each_call_in_order() -> None:
    node = ToolNode([add, describe])
    assert node.name == "tools" and set(node.tools_by_name) == {"add", "describe"}
    messages = run_tools(node, call("add", "c1", a=1, b=2), call("describe", "c2", x="y"))
    assert messages == [
        {"role": "tool", "content": "3", "tool_call_id": "c1", "name": "add"},
        {
            "role": "tool",
            "content": json.dumps({"x": "y", "é": [1, None]}, ensure_ascii=False),
            "tool_call_id": "c2",
            "name": "describe",
        },
    ]


def test_list_input_gives_a_list_and_no_tool_calls_gives_nothing() -> None:
    node = ToolNode([add])
    out = node.invoke([ai(call("add", a=2))])
    assert [m["content"] for m in out] == ["2"]
    assert node.invoke({"messages": [ai(content="no tools")]}) == {"messages": []}
    with pytest.raises(ToolNodeError, match="No AI message"):
        node.invoke({"messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(ToolNodeError, match="No messages found"):
        node.invoke({"messages": []})


def test_openai_style_tool_calls_are_understood() -> None:
    openai_call = {
        "id": "c9",
        "type": "function",
        "function": {"name": "add", "arguments": json.dumps({"a": 4, "b": 5})},
    }
    assert run_tools(ToolNode([add]), openai_call)[0]["content"] == "9"


def test_calls_run_in_parallel() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def meet(who: str) -> str:
        """Wait until all three calls are running at once."""
        barrier.wait()
        return f"{who} met"

    calls = [call("meet", f"c{i}", who=w) for i, w in enumerate(["a", "b", "c"])]
    agent = agent_graph([meet], [ai(*calls), ai(content="done")])
    result = agent.graph.invoke({"messages": [{"role": "user", "content": "go"}]}, CFG)
    assert [m["content"] for m in result["messages"][2:5]] == ["a met", "b met", "c met"]


def test_unknown_tool_is_an_error_message_to_the_model() -> None:
    for handle in (True, False):
        [message] = run_tools(ToolNode([add, describe], handle_tool_errors=handle), call("mul"))
        assert message == {
            "role": "tool",
            "content": "Error: mul is not a valid tool, try one of [add, describe].",
            "tool_call_id": "c1",
            "name": "mul",
            "status": "error",
        }


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"b": 1}, "a: required argument is missing"),
        ({"a": "one"}, "a: expected integer, got str 'one'"),
        ({"a": 1, "c": 2}, "c: unexpected argument"),
        ("1 + 2", "arguments must be an object of named values, got '1 + 2'"),
    ],
)
def test_arguments_that_do_not_fit_are_explained_to_the_model(args: Any, problem: str) -> None:
    bad = {"id": "c1", "name": "add", "args": args}
    [message] = run_tools(ToolNode([add]), bad)
    assert message["status"] == "error" and message["name"] == "add"
    assert message["content"] == (
        f"Error: Tool 'add' cannot take the arguments {args!r}: {problem}. "
        "Expected arguments: a (integer), b (integer, optional).\n Please fix your mistakes."
    )
    with pytest.raises(ToolInvocationError, match=re.escape(problem)) as info:
        run_tools(ToolNode([add], handle_tool_errors=False), bad)
    assert info.value.tool_name == "add" and info.value.tool_args == args


def fails(x: str) -> str:
    """Always fails."""
    raise ValueError(f"bad {x}")


@pytest.mark.parametrize(
    ("handle", "content"),
    [
        (True, "Error: ValueError('bad q')\n Please fix your mistakes."),
        ("Try something else.", "Try something else."),
        (lambda exc: f"caught {exc}", "caught bad q"),
        (ValueError, "Error: ValueError('bad q')\n Please fix your mistakes."),
        ((KeyError, ValueError), "Error: ValueError('bad q')\n Please fix your mistakes."),
    ],
)
def test_tool_errors_reported_as_configured(handle: Any, content: str) -> None:
    [message] = run_tools(ToolNode([fails], handle_tool_errors=handle), call("fails", x="q"))
    assert message["content"] == content and message["status"] == "error"


@pytest.mark.parametrize("handle", [False, KeyError])
def test_tool_errors_not_handled_are_raised(handle: Any) -> None:
    with pytest.raises(ValueError, match="bad q"):
        run_tools(ToolNode([fails], handle_tool_errors=handle), call("fails", x="q"))


def test_bad_tools_are_refused_when_the_node_is_built() -> None:
    with pytest.raises(GraphBuildError, match="Two tools are named 'add'"):
        ToolNode([add, add])
    with pytest.raises(GraphBuildError, match="no usable name"):
        ToolNode([lambda: 1])
    with pytest.raises(GraphBuildError, match="is not a tool"):
        ToolNode([42])


def test_a_tool_returning_a_command_is_refused() -> None:
    def route() -> Command[str]:
        """Tries to route."""
        return Command(goto="elsewhere")

    with pytest.raises(ToolNodeError, match="returned a Command"):
        run_tools(ToolNode([route]), call("route"))


# -- tools_condition -----------------------------------------------------------------


def test_tools_condition_matches_langgraph() -> None:
    asks = ai(call("add", a=1))
    assert tools_condition({"messages": [asks]}) == "tools"
    assert tools_condition([asks]) == "tools"
    assert tools_condition({"messages": [asks, ai(content="done")]}) == "__end__"
    assert tools_condition({"chat": [asks]}, messages_key="chat") == "tools"
    assert tools_condition(MessagesHolder([asks])) == "tools"
    with pytest.raises(ToolNodeError, match="No messages found in input state"):
        tools_condition({"messages": []})


class MessagesHolder:
    def __init__(self, messages: list[Any]) -> None:
        self.messages = messages


# -- interrupts inside tools ---------------------------------------------------------


def test_parallel_interrupts_pause_each_call_with_its_own_id() -> None:
    ran: list[str] = []

    def ask(question: str) -> str:
        """Ask a person."""
        ran.append(question)
        return f"{question} -> {interrupt({'question': question})}"

    turns = [ai(call("ask", "c1", question="one"), call("ask", "c2", question="two"))]
    agent = agent_graph([ask], [*turns, ai(content="done")])
    paused = agent.graph.invoke({"messages": [{"role": "user", "content": "go"}]}, CFG)

    state = agent.graph.get_state(CFG)
    by_question = {i.value["question"]: i.id for i in state.interrupts}
    assert set(by_question) == {"one", "two"} and len(set(by_question.values())) == 2
    assert {i.id for i in paused["__interrupt__"]} == set(by_question.values())
    assert state.next == ("tools",) and agent.model_saw == [1]

    ran.clear()
    agent.graph.invoke(Command(resume={by_question["two"]: "B"}), CFG)
    assert ran == ["two"]  # only the answered call ran again
    assert [i.value["question"] for i in agent.graph.get_state(CFG).interrupts] == ["one"]
    assert agent.model_saw == [1]  # the model waits for every result

    ran.clear()
    result = agent.graph.invoke(Command(resume={by_question["one"]: "A"}), CFG)
    assert ran == ["one"]
    assert [m["content"] for m in result["messages"][2:]] == ["one -> A", "two -> B", "done"]
    assert agent.model_saw == [1, 4]


def test_a_single_call_interrupts_in_the_node_itself() -> None:
    def ask(question: str) -> str:
        """Ask a person."""
        return str(interrupt(question))

    agent = agent_graph([ask], [ai(call("ask", question="why?")), ai(content="ok")])
    paused = agent.graph.invoke({"messages": [{"role": "user", "content": "go"}]}, CFG)
    assert [i.value for i in paused["__interrupt__"]] == ["why?"]
    result = agent.graph.invoke(Command(resume="because"), CFG)
    assert [m["content"] for m in result["messages"][2:]] == ["because", "ok"]


async def test_async_tools_run_under_ainvoke_and_pause_per_call() -> None:
    async def slow_add(a: int, b: int) -> int:
        """Add, slowly."""
        await asyncio.sleep(0.01)
        return a + b

    async def confirm(n: int) -> str:
        """Ask before going on."""
        return f"{n}: {interrupt(n)}"

    node = ToolNode([slow_add, confirm, add])
    assert isinstance(node, ToolNode)
    with pytest.raises(ToolNodeError, match=r"async tools \(slow_add, confirm\)"):
        node.invoke({"messages": [ai(call("add", a=1))]})
    assert await ToolNode([add]).ainvoke([ai(call("add", a=1))]) == [
        {"role": "tool", "content": "1", "tool_call_id": "c1", "name": "add"}
    ]
    out = await node.ainvoke({"messages": [ai(call("slow_add", a=1, b=2), call("add", "c2", a=5))]})
    assert [m["content"] for m in out["messages"]] == ["3", "5"]

    turns = [ai(call("confirm", "c1", n=1), call("confirm", "c2", n=2)), ai(content="done")]
    agent = agent_graph([slow_add, confirm], turns)
    paused = await agent.graph.ainvoke({"messages": [{"role": "user", "content": "go"}]}, CFG)
    ids = {i.value: i.id for i in paused["__interrupt__"]}
    await agent.graph.ainvoke(Command(resume={ids[2]: "no"}), CFG)
    result = await agent.graph.ainvoke(Command(resume={ids[1]: "yes"}), CFG)
    assert [m["content"] for m in result["messages"][2:]] == ["1: yes", "2: no", "done"]


# -- the example ---------------------------------------------------------------------


_HIDE_LANGCHAIN = (
    "import runpy, sys; sys.modules['langchain_core'] = None; "
    "runpy.run_path(sys.argv[1], run_name='__main__')"
)


@pytest.mark.parametrize("langchain", ["as installed", "hidden"])
def test_tool_agent_example_runs(tmp_path: Path, langchain: str) -> None:
    example = str(ROOT / "examples" / "tool_agent.py")
    command = [sys.executable, example]
    if langchain == "hidden":  # dict messages, as without langchain-core
        command = [sys.executable, "-c", _HIDE_LANGCHAIN, example]
    proc = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "3 emails wait for review",
        "     user: Invite Ada and Bob to lunch on Friday.",
        "assistant: ",
        "     tool: Sent to ada@example.com: 'Lunch'",
        "     tool: Sent to bob@example.com: 'Lunch on Friday, 12:30'",
        "     tool: Don't email everyone, just Ada and Bob.",
        "assistant: Ada and Bob are invited; I did not email everyone.",
    ]


async def test_sync_tools_pause_per_call_under_ainvoke() -> None:
    def ask(q: str) -> str:
        """Ask a person."""
        return f"{q}={interrupt(q)}"

    agent = agent_graph([ask], [ai(call("ask", "c1", q="x"), call("ask", "c2", q="y")), ai()])
    paused = await agent.graph.ainvoke({"messages": [{"role": "user", "content": "go"}]}, CFG)
    ids = {i.value: i.id for i in paused["__interrupt__"]}
    await agent.graph.ainvoke(Command(resume={ids["y"]: 2}), CFG)
    result = await agent.graph.ainvoke(Command(resume={ids["x"]: 1}), CFG)
    assert [m["content"] for m in result["messages"][2:4]] == ["x=1", "y=2"]
