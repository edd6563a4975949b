"""pausegraph.prebuilt with langchain-core installed: LangChain tools and messages.

Skipped when langchain-core is missing (it is not a dependency of pausegraph).
"""

from __future__ import annotations

from typing import Any

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import START, MessagesState, StateGraph
from pausegraph.prebuilt import ToolNode, tools_condition, with_human_review
from pausegraph.types import Command, interrupt

messages = pytest.importorskip("langchain_core.messages")
tools = pytest.importorskip("langchain_core.tools")

AIMessage, ToolMessage = messages.AIMessage, messages.ToolMessage
CFG = {"configurable": {"thread_id": "lc"}}


@tools.tool
def multiply(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


def shout(text: str) -> str:
    """Shout."""
    return text.upper()


def asks(*calls: tuple[str, str, dict[str, Any]]) -> Any:
    return AIMessage("", tool_calls=[{"id": i, "name": n, "args": a} for i, n, a in calls])


def graph_of(tool_list: list[Any], turns: list[Any]) -> Any:
    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [turns.pop(0)]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node(ToolNode(tool_list))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


def test_langchain_tools_and_functions_answer_with_tool_messages() -> None:
    node = ToolNode([multiply, shout])
    msg = asks(("1", "multiply", {"a": 3, "b": 4}), ("2", "shout", {"text": "hi"}))
    out = node.invoke({"messages": [msg]})["messages"]
    assert all(isinstance(m, ToolMessage) for m in out)
    assert [(m.content, m.name, m.tool_call_id, m.status) for m in out] == [
        ("12", "multiply", "1", "success"),
        ("HI", "shout", "2", "success"),
    ]


def test_bad_arguments_to_a_langchain_tool_are_explained() -> None:
    [message] = ToolNode([multiply]).invoke([asks(("1", "multiply", {"a": "x"}))])
    assert message.status == "error"
    assert "Tool 'multiply' cannot take the arguments {'a': 'x'}" in message.content
    assert "Expected arguments: a (integer), b (integer)." in message.content


def test_parallel_interrupts_with_langchain_messages() -> None:
    def ask(question: str) -> str:
        """Ask a person."""
        return str(interrupt(question))

    turns = [asks(("1", "ask", {"question": "one"}), ("2", "ask", {"question": "two"}))]
    graph = graph_of([ask], [*turns, AIMessage("done")])
    paused = graph.invoke({"messages": [("user", "go")]}, CFG)
    ids = {i.value: i.id for i in paused["__interrupt__"]}
    graph.invoke(Command(resume={ids["two"]: "B"}), CFG)
    result = graph.invoke(Command(resume={ids["one"]: "A"}), CFG)
    assert [type(m).__name__ for m in result["messages"][2:]] == [
        "ToolMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert [m.content for m in result["messages"][2:]] == ["A", "B", "done"]


def test_a_reviewed_langchain_tool_keeps_its_name_and_arguments() -> None:
    reviewed = with_human_review(multiply, {"allow_respond": False})
    assert reviewed.name == "multiply" and reviewed.args == multiply.args
    graph = graph_of([reviewed], [asks(("1", "multiply", {"a": 2, "b": 3})), AIMessage("ok")])
    paused = graph.invoke({"messages": [("user", "go")]}, CFG)
    [pending] = paused["__interrupt__"]
    assert pending.value["action_request"] == {"action": "multiply", "args": {"a": 2, "b": 3}}
    edit = {"type": "edit", "args": {"action": "multiply", "args": {"a": 5, "b": 3}}}
    result = graph.invoke(Command(resume={pending.id: edit}), CFG)
    assert [m.content for m in result["messages"][2:]] == ["15", "ok"]


def test_dict_messages_become_langchain_messages_and_survive_a_saver(saver: Any) -> None:
    """As in LangGraph: with langchain-core installed, add_messages converts what it gets."""

    def reply(state: MessagesState) -> dict[str, Any]:
        return {"messages": [{"role": "assistant", "content": "hello"}]}

    graph = StateGraph(MessagesState).add_node("bot", reply).add_edge(START, "bot")
    graph = graph.compile(checkpointer=saver)
    result = graph.invoke({"messages": [{"role": "user", "content": "hi", "id": "u1"}]}, CFG)
    first, second = result["messages"]
    assert (type(first), first.content, first.id) == (messages.HumanMessage, "hi", "u1")
    assert (type(second), second.content) == (AIMessage, "hello")
    assert isinstance(second.id, str) and second.id
    assert graph.get_state(CFG).values["messages"] == [first, second]  # stored and loaded back
