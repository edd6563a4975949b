"""``create_react_agent``: LangGraph's ready-made tool-calling agent, on pausegraph.

The graph LangGraph builds: ``agent`` (the model answers the chat so far) and
``tools`` (a :class:`ToolNode` running the calls it asked for) in a loop until
the model answers without tool calls; then, with ``response_format``, a last
``generate_structured_response`` node asks the model for that shape. Tools that
``interrupt()`` pause only their own call (see :class:`ToolNode`), so a person
can review calls on the way.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypedDict

from typing_extensions import NotRequired

from pausegraph._typeddict import is_typeddict
from pausegraph.constants import END, START
from pausegraph.errors import GraphBuildError
from pausegraph.graph import StateGraph, add_messages
from pausegraph.graph._config import DEFAULT_RECURSION_LIMIT, recursion_limit_of
from pausegraph.prebuilt._condition import tools_condition
from pausegraph.prebuilt._tool_node import ToolNode
from pausegraph.runtime._context import current_task

__all__ = ["AgentState", "create_react_agent"]

OUT_OF_STEPS = "Sorry, need more steps to process this request."
"""What the agent answers instead of calling tools it has no steps left to run (LangGraph's)."""


class AgentState(TypedDict):
    """The default state of :func:`create_react_agent`: the chat, and the structured answer."""

    messages: Annotated[list[Any], add_messages]
    structured_response: NotRequired[Any]


def create_react_agent(
    model: Any,
    tools: Sequence[Any] | ToolNode,
    *,
    prompt: Any = None,
    response_format: Any = None,
    pre_model_hook: Any = None,
    post_model_hook: Any = None,
    state_schema: Any = None,
    context_schema: Any = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: str = "v2",
    name: str | None = None,
    **unsupported: Any,
) -> Any:
    """Build and compile LangGraph's ReAct agent: the model calls tools until it can answer.

    Args:
        model: A chat model (anything with ``invoke`` and, if there are tools,
            ``bind_tools``), a ``"provider:model"`` string (needs ``langchain``),
            or a callable ``(state, runtime) -> model`` choosing one per step.
        tools: Functions, LangChain tools, or a ready :class:`ToolNode`.
        prompt: A system prompt (str or system message) put before the chat, or
            a callable ``state -> messages`` (or a runnable) making the model's input.
        response_format: A schema (pydantic model, TypedDict, JSON Schema, or
            ``(prompt, schema)``): once done, the model's answer in that shape
            goes to ``structured_response``.
        pre_model_hook: A node run before each model call (``pre_model_hook``):
            it may update ``messages``, or return ``llm_input_messages``, which
            the model gets instead without them being stored in ``messages``
            (to trim or summarise a long chat).
        post_model_hook: A node run after each model call (``post_model_hook``),
            before its tool calls run: a guardrail, or a person's review.
        state_schema: The state (default :class:`AgentState`); it needs ``messages``.
        checkpointer / store / interrupt_before / interrupt_after / name: As for ``compile``.
        version: ``"v1"`` or ``"v2"`` (the same graph here: the tool node
            always runs each call as a task of its own).

    Raises:
        GraphBuildError: An option this agent does not know, an unknown
            ``version``, a state without ``messages``, or a ``pre_model_hook``
            with a state that is not a TypedDict.
    """
    if unsupported:
        raise GraphBuildError(
            f"create_react_agent has no option {', '.join(map(repr, sorted(unsupported)))}; "
            "for more control, build the loop with StateGraph, ToolNode and tools_condition "
            "(README, 'Tools reviewed by a person')."
        )
    if version not in ("v1", "v2"):
        raise GraphBuildError(f"version must be 'v1' or 'v2', got {version!r}.")
    tool_node = tools if isinstance(tools, ToolNode) else ToolNode(tools) if tools else None
    tool_list = list(tool_node.tools_by_name.values()) if tool_node is not None else []
    returns_directly = {
        n for n, t in (tool_node.tools_by_name.items() if tool_node else ()) if _return_direct(t)
    }
    schema = state_schema or AgentState
    builder = StateGraph(schema, context_schema=context_schema)
    if "messages" not in builder.schema.keys:
        raise GraphBuildError(
            f"The agent's state {schema.__name__} has no 'messages' key: add "
            "`messages: Annotated[list, add_messages]` (or extend AgentState)."
        )
    choose = _model_chooser(model, tool_list)
    make_input = _input_maker(prompt)

    def agent(state: Any) -> dict[str, Any]:
        messages = _messages_of(state, MODEL_INPUT if pre_model_hook is not None else "messages")
        response = choose(state).invoke(make_input(state, messages))
        if _has_tool_calls(response) and _steps_left() < 2:
            return {"messages": [_assistant(OUT_OF_STEPS, _id_of(response))]}
        if name is not None:
            _set_name(response, name)
        return {"messages": [response]}

    model_step = "agent"
    if pre_model_hook is None:
        builder.add_node("agent", agent)
    else:  # the agent reads llm_input_messages, a key only its own schema declares
        builder.add_node("agent", agent, input_schema=_with_model_input(schema))
        builder.add_node("pre_model_hook", pre_model_hook)
        builder.add_edge("pre_model_hook", "agent")
        model_step = "pre_model_hook"
    builder.add_edge(START, model_step)
    decides = "agent"  # the node whose output says whether tools run next
    if post_model_hook is not None:
        builder.add_node("post_model_hook", post_model_hook)
        builder.add_edge("agent", "post_model_hook")
        decides = "post_model_hook"
    after_agent = END
    if response_format is not None:
        builder.add_node(
            "generate_structured_response", _structured(choose, response_format, make_input)
        )
        builder.add_edge("generate_structured_response", END)
        after_agent = "generate_structured_response"
    if tool_node is None:
        builder.add_edge(decides, after_agent)
    else:
        builder.add_node("tools", tool_node)

        def route(state: Any) -> str:
            return "tools" if tools_condition(state) == "tools" else after_agent

        builder.add_conditional_edges(decides, route, ["tools", after_agent])
        if returns_directly:

            def after_tools(state: Any) -> str:
                done = _direct_results(_messages_of(state), returns_directly)
                return END if done else model_step

            builder.add_conditional_edges("tools", after_tools, [model_step, END])
        else:
            builder.add_edge("tools", model_step)
    return builder.compile(
        checkpointer=checkpointer,
        store=store,
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        debug=debug,
        name=name or "LangGraph",
    )


def _model_chooser(model: Any, tools: list[Any]) -> Callable[[Any], Any]:
    """``state -> model`` (tools bound): a fixed model, one named by string, or a callable's."""
    if isinstance(model, str):
        try:
            from langchain.chat_models import init_chat_model
        except ImportError as exc:
            raise GraphBuildError(
                f"A model named by string ({model!r}) needs LangChain's init_chat_model: "
                "pip install langchain (and the provider's package), or pass a chat model."
            ) from exc
        model = init_chat_model(model)
    if not hasattr(model, "invoke") and callable(model):  # chosen per step, tools already bound
        from pausegraph.runtime import get_runtime

        dynamic = model
        return lambda state: dynamic(state, get_runtime())
    bound = _bind(model, tools)
    return lambda state: bound


def _bind(model: Any, tools: list[Any]) -> Any:
    """``model`` with ``tools`` bound, unless there are none or it has tools bound already."""
    if not tools or "tools" in (getattr(model, "kwargs", None) or {}):
        return model
    if not hasattr(model, "bind_tools"):
        raise GraphBuildError(
            f"The model {type(model).__name__} has no bind_tools, so it cannot be given the "
            "tools: pass a chat model that supports tool calling, or bind them yourself."
        )
    return model.bind_tools(tools)


def _input_maker(prompt: Any) -> Callable[[Any, list[Any]], Any]:
    """``(state, messages) -> the model's input`` for the kinds of prompt LangGraph takes."""
    if prompt is None:
        return lambda state, messages: messages
    if isinstance(prompt, str):
        system = _system(prompt)
        return lambda state, messages: [system, *messages]
    if _is_system_message(prompt):
        return lambda state, messages: [prompt, *messages]
    if hasattr(prompt, "invoke"):
        return lambda state, messages: prompt.invoke(state)
    if callable(prompt):
        return lambda state, messages: prompt(state)
    raise GraphBuildError(
        f"prompt must be a str, a system message, a callable or a runnable, not {prompt!r}."
    )


def _structured(
    choose: Callable[[Any], Any], response_format: Any, make_input: Callable[[Any, list[Any]], Any]
) -> Callable[[Any], dict[str, Any]]:
    """The node that asks the model for its final answer in ``response_format``'s shape."""
    instructions, schema = (
        response_format if isinstance(response_format, tuple) else (None, response_format)
    )

    def generate_structured_response(state: Any) -> dict[str, Any]:
        model = choose(state)
        if not hasattr(model, "with_structured_output"):
            model = getattr(model, "bound", model)  # a model with tools bound
        if not hasattr(model, "with_structured_output"):
            raise GraphBuildError(
                f"response_format needs a model with with_structured_output; "
                f"{type(model).__name__} has none."
            )
        messages = _messages_of(state)
        if instructions is not None:
            messages = [_system(instructions), *messages]
        answer = model.with_structured_output(schema).invoke(messages)
        return {"structured_response": answer}

    return generate_structured_response


def _steps_left() -> int:
    """Steps the run may still take (LangGraph's ``remaining_steps``)."""
    ctx = current_task.get()
    if ctx is None:
        return DEFAULT_RECURSION_LIMIT
    return recursion_limit_of(ctx.config) - int(ctx.task.step)


MODEL_INPUT = "llm_input_messages"
"""What a ``pre_model_hook`` returns to give the model other messages than the stored ones."""


def _messages_of(state: Any, key: str = "messages") -> list[Any]:
    """The chat in ``state`` (``key`` first, then ``messages``)."""

    def get(name: str) -> Any:
        return state.get(name) if isinstance(state, Mapping) else getattr(state, name, None)

    messages = get(key) if key != "messages" else None
    return list(messages or get("messages") or ())


def _with_model_input(schema: Any) -> Any:
    """``schema`` plus the ``llm_input_messages`` key (a private key of the agent node)."""
    if not is_typeddict(schema):
        raise GraphBuildError(
            f"pre_model_hook needs a TypedDict state to add {MODEL_INPUT!r} to; "
            f"{getattr(schema, '__name__', schema)!r} is not one."
        )
    hints = typing.get_type_hints(schema, include_extras=True)
    return TypedDict(  # type: ignore[operator]
        f"{schema.__name__}WithModelInput", {**hints, MODEL_INPUT: list}, total=False
    )


def _has_tool_calls(message: Any) -> bool:
    calls = (
        message.get("tool_calls")
        if isinstance(message, Mapping)
        else getattr(message, "tool_calls", None)
    )
    return bool(calls)


def _id_of(message: Any) -> Any:
    return message.get("id") if isinstance(message, Mapping) else getattr(message, "id", None)


def _set_name(message: Any, name: str) -> None:
    if isinstance(message, dict):
        message["name"] = name
    elif hasattr(message, "name"):
        message.name = name


def _return_direct(tool: Any) -> bool:
    return bool(getattr(tool, "return_direct", False))


def _direct_results(messages: list[Any], direct: set[str]) -> bool:
    """Whether the last tool results all come from tools that return directly."""
    results = []
    for message in reversed(messages):
        kind = message.get("role") if isinstance(message, Mapping) else getattr(message, "type", "")
        if kind != "tool":
            break
        results.append(message)
    names = {m.get("name") if isinstance(m, Mapping) else getattr(m, "name", None) for m in results}
    return bool(results) and names <= direct


def _system(text: str) -> Any:
    try:
        from langchain_core.messages import SystemMessage
    except ImportError:
        return {"role": "system", "content": text}
    return SystemMessage(content=text)


def _is_system_message(value: Any) -> bool:
    if isinstance(value, Mapping):
        return value.get("role") == "system"
    return getattr(value, "type", None) == "system"


def _assistant(text: str, message_id: Any) -> Any:
    try:
        from langchain_core.messages import AIMessage
    except ImportError:
        out: dict[str, Any] = {"role": "assistant", "content": text}
        if message_id is not None:
            out["id"] = message_id
        return out
    return AIMessage(content=text, id=message_id)
