"""``create_react_agent``: the messages LangGraph 1.2.22's agent ends with, for scripted models.

The LangChain cases were run against LangGraph with the same models and tools;
the dict-message cases check the same loop without langchain-core's types.
"""

from __future__ import annotations

from typing import Any

import pytest

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.errors import GraphBuildError
from pausegraph.prebuilt import create_react_agent, with_human_review
from pausegraph.types import Command

lc = pytest.importorskip("langchain_core")
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

SEEN: list[list[Any]] = []
"""What each ToolModel call got as input."""


class ToolModel(GenericFakeChatModel):
    """A scripted chat model that accepts tools (LangChain's fake does not bind them)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolModel:
        return self

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        SEEN.append(list(input))
        return super().invoke(input, config, **kwargs)


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool(return_direct=True)
def final(x: str) -> str:
    """Answer directly."""
    return "FINAL " + x


def call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": call_id}


def run(script: list[Any], tools: Any = (add, final), **kwargs: Any) -> list[tuple[Any, ...]]:
    agent = create_react_agent(ToolModel(messages=iter(script)), list(tools), **kwargs)
    out = agent.invoke({"messages": [HumanMessage("what is 2+3", id="h")]})
    return [
        (m.type, m.content, m.name, [c["name"] for c in getattr(m, "tool_calls", [])])
        for m in out["messages"]
    ]


def test_the_model_calls_tools_until_it_answers() -> None:
    script = [
        AIMessage("", id="a1", tool_calls=[call("add", {"a": 2, "b": 3}, "c1")]),
        AIMessage("It is 5", id="a2"),
    ]
    assert run(script) == [
        ("human", "what is 2+3", None, []),
        ("ai", "", None, ["add"]),
        ("tool", "5", "add", []),
        ("ai", "It is 5", None, []),
    ]


def test_a_tool_that_returns_directly_ends_the_run() -> None:
    script = [
        AIMessage("", id="a1", tool_calls=[call("final", {"x": "y"}, "c1")]),
        AIMessage("never", id="a2"),
    ]
    assert run(script)[-1] == ("tool", "FINAL y", "final", [])


def test_prompt_and_name() -> None:
    model = ToolModel(messages=iter([AIMessage("hi", id="a1")]))
    SEEN.clear()
    agent = create_react_agent(model, [add], prompt="Be brief", name="bot")
    out = agent.invoke({"messages": [HumanMessage("hello", id="h")]})
    assert [(m.type, m.content, m.name) for m in out["messages"]] == [
        ("human", "hello", None),
        ("ai", "hi", "bot"),
    ]
    assert [(m.type, m.content) for m in SEEN[0]] == [
        ("system", "Be brief"),
        ("human", "hello"),
    ]
    assert agent.get_name() == "bot"


def test_a_callable_prompt_makes_the_model_input() -> None:
    SEEN.clear()
    model = ToolModel(messages=iter([AIMessage("ok", id="a1")]))
    agent = create_react_agent(
        model, [], prompt=lambda state: [("system", "S"), *state["messages"][-1:]]
    )
    agent.invoke({"messages": [HumanMessage("one", id="1"), HumanMessage("two", id="2")]})
    assert SEEN[0] == [("system", "S"), HumanMessage("two", id="2")]


def test_out_of_steps_the_agent_says_so_instead_of_calling_tools() -> None:
    looping = [
        AIMessage("", id=f"a{i}", tool_calls=[call("add", {"a": 1, "b": 1}, f"c{i}")])
        for i in range(20)
    ]
    agent = create_react_agent(ToolModel(messages=iter(looping)), [add])
    out = agent.invoke({"messages": [HumanMessage("loop", id="h")]}, {"recursion_limit": 6})
    assert [(m.type, m.content) for m in out["messages"]][-3:] == [
        ("ai", ""),
        ("tool", "2"),
        ("ai", "Sorry, need more steps to process this request."),
    ]
    assert len(out["messages"]) == 6


def test_graph_shape() -> None:
    agent = create_react_agent(ToolModel(messages=iter([])), [add])
    assert sorted(agent.get_graph().nodes) == ["__end__", "__start__", "agent", "tools"]
    bare = create_react_agent(ToolModel(messages=iter([])), [])
    assert sorted(bare.get_graph().nodes) == ["__end__", "__start__", "agent"]


class Weather(dict[str, Any]):
    pass


class StructuredModel(ToolModel):
    def with_structured_output(self, schema: Any) -> Any:
        class Answer:
            def invoke(self, messages: Any) -> Any:
                return {
                    "schema": schema,
                    "last": messages[-1].content,
                    "first": messages[0].content,
                }

        return Answer()


def test_response_format_adds_a_structured_answer() -> None:
    model = StructuredModel(messages=iter([AIMessage("Sunny", id="a1")]))
    agent = create_react_agent(model, [add], response_format=("Answer as JSON", Weather))
    out = agent.invoke({"messages": [HumanMessage("weather?", id="h")]})
    assert out["structured_response"] == {
        "schema": Weather,
        "last": "Sunny",
        "first": "Answer as JSON",
    }
    assert "generate_structured_response" in agent.get_graph().nodes


def test_tools_reviewed_by_a_person_pause_the_agent() -> None:
    def send(to: str) -> str:
        """Send an email."""
        return f"sent to {to}"

    script = [
        AIMessage(
            "",
            id="a1",
            tool_calls=[call("send", {"to": "ada"}, "c1"), call("send", {"to": "bob"}, "c2")],
        ),
        AIMessage("Done", id="a2"),
    ]
    agent = create_react_agent(
        ToolModel(messages=iter(script)), [with_human_review(send)], checkpointer=InMemorySaver()
    )
    config = {"configurable": {"thread_id": "t"}}
    asks = agent.invoke({"messages": [HumanMessage("mail them", id="h")]}, config)["__interrupt__"]
    assert sorted(a.value["action_request"]["args"]["to"] for a in asks) == ["ada", "bob"]
    answers = {a.id: {"type": "accept"} for a in asks}
    out = agent.invoke(Command(resume=answers), config)
    assert [(m.type, m.content) for m in out["messages"]][-3:] == [
        ("tool", "sent to ada"),
        ("tool", "sent to bob"),
        ("ai", "Done"),
    ]


def test_dict_messages_without_langchain_types() -> None:
    class Scripted:
        def __init__(self, turns: list[dict[str, Any]]) -> None:
            self.turns = turns

        def bind_tools(self, tools: Any) -> Any:
            return self

        def invoke(self, messages: Any) -> Any:
            return self.turns.pop(0)

    def double(n: int) -> int:
        """Double a number."""
        return 2 * n

    turns = [
        {"role": "assistant", "content": "", "tool_calls": [call("double", {"n": 4}, "c1")]},
        {"role": "assistant", "content": "8"},
    ]
    out = create_react_agent(Scripted(turns), [double]).invoke({"messages": [("user", "double 4")]})
    assert [getattr(m, "content", None) for m in out["messages"]][-2:] == ["8", "8"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"state_modifier": "x"}, r"has no option 'state_modifier'"),
        ({"version": "v3"}, r"version must be 'v1' or 'v2'"),
    ],
)
def test_what_it_does_not_offer_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(GraphBuildError, match=message):
        create_react_agent(ToolModel(messages=iter([])), [add], **kwargs)


def test_a_state_without_messages_and_a_model_without_bind_tools() -> None:
    from typing import TypedDict

    class NoMessages(TypedDict):
        x: int

    with pytest.raises(GraphBuildError, match=r"has no 'messages' key"):
        create_react_agent(ToolModel(messages=iter([])), [add], state_schema=NoMessages)

    class Plain:
        def invoke(self, messages: Any) -> Any:
            return {"role": "assistant", "content": "x"}

    with pytest.raises(GraphBuildError, match=r"has no bind_tools"):
        create_react_agent(Plain(), [add])


def test_ainvoke_runs_the_same_loop() -> None:
    import asyncio

    script = [
        AIMessage("", id="a1", tool_calls=[call("add", {"a": 2, "b": 3}, "c1")]),
        AIMessage("It is 5", id="a2"),
    ]
    agent = create_react_agent(ToolModel(messages=iter(script)), [add])
    out = asyncio.run(agent.ainvoke({"messages": [HumanMessage("what is 2+3", id="h")]}))
    assert [(m.type, m.content) for m in out["messages"]] == [
        ("human", "what is 2+3"),
        ("ai", ""),
        ("tool", "5"),
        ("ai", "It is 5"),
    ]


def test_hooks_around_the_model() -> None:
    """pre_model_hook's llm_input_messages feed the model only; post_model_hook edits its answer."""

    def pre(state: dict[str, Any]) -> dict[str, Any]:
        return {"llm_input_messages": state["messages"][-1:]}

    def post(state: dict[str, Any]) -> dict[str, Any]:
        last = state["messages"][-1]
        checked = AIMessage(last.content + " (checked)", id=last.id, tool_calls=last.tool_calls)
        return {"messages": [checked]}

    script = [
        AIMessage("", id="a1", tool_calls=[call("add", {"a": 1, "b": 2}, "c1")]),
        AIMessage("3", id="a2"),
    ]
    SEEN.clear()
    agent = create_react_agent(
        ToolModel(messages=iter(script)), [add], pre_model_hook=pre, post_model_hook=post
    )
    assert sorted(agent.get_graph().nodes) == [
        "__end__",
        "__start__",
        "agent",
        "post_model_hook",
        "pre_model_hook",
        "tools",
    ]
    out = agent.invoke({"messages": [HumanMessage("one", id="h0"), HumanMessage("1+2?", id="h1")]})
    assert [[(m.type, m.content) for m in call] for call in SEEN] == [
        [("human", "1+2?")],
        [("tool", "3")],
    ]
    assert [(m.type, m.content) for m in out["messages"]] == [
        ("human", "one"),
        ("human", "1+2?"),
        ("ai", " (checked)"),
        ("tool", "3"),
        ("ai", "3 (checked)"),
    ]
    assert sorted(out) == ["messages"]  # llm_input_messages stays private, as in LangGraph


def test_a_person_reviews_the_model_answer_in_post_model_hook() -> None:
    from pausegraph.types import interrupt

    def review(state: dict[str, Any]) -> dict[str, Any]:
        verdict = interrupt({"answer": state["messages"][-1].content})
        last = state["messages"][-1]
        return {"messages": [AIMessage(verdict, id=last.id)]}

    agent = create_react_agent(
        ToolModel(messages=iter([AIMessage("draft", id="a1")])),
        [add],
        post_model_hook=review,
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "t"}}
    asked = agent.invoke({"messages": [HumanMessage("hi", id="h")]}, config)["__interrupt__"]
    assert asked[0].value == {"answer": "draft"}
    out = agent.invoke(Command(resume="final"), config)
    assert [(m.type, m.content) for m in out["messages"]] == [("human", "hi"), ("ai", "final")]


def test_pre_model_hook_needs_a_typeddict_state() -> None:
    import dataclasses

    @dataclasses.dataclass
    class DataState:
        messages: list[Any]

    with pytest.raises(GraphBuildError, match=r"pre_model_hook needs a TypedDict state"):
        create_react_agent(
            ToolModel(messages=iter([])), [add], state_schema=DataState, pre_model_hook=lambda s: {}
        )
