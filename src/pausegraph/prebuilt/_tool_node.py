"""``ToolNode``: run the tool calls the model asked for, in parallel, one task per call.

With one call, the node runs it in its own task. With several, it runs them as
the push tasks of a small nested graph (START fans out one ``Send`` per call),
so each call is a task of its own: the calls run in parallel, and an
``interrupt()`` inside one tool pauses only that call, under its own interrupt
id. The parent node pauses while any call waits, and finishes (so the edges
after it fire) only when every call has a result.

Why a nested graph and not ``Command(goto=[Send(...)])`` back to the node
itself: a node's plain edges fire together with its ``goto``, so the agent
after the ToolNode would run in the same step as the tool calls, before their
results exist. Inside the nested graph, no edge leaves early.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypedDict

from pausegraph.errors import GraphBuildError
from pausegraph.prebuilt._errors import ToolInvocationError, ToolNodeError
from pausegraph.prebuilt._messages import (
    ToolCall,
    as_dict_message,
    content_of,
    last_ai_message,
    messages_of,
    tool_calls_of,
    tool_message,
)
from pausegraph.prebuilt._tools import LangChainTool, Tool, as_tool

__all__ = ["TOOL_CALL_KEY", "ToolNode"]

TOOL_CALL_KEY = "__tool_call__"
"""Key of the single-call input: ``{"__tool_call__": {"id", "name", "args"}}``."""

_LANGCHAIN_KEY = "__langchain__"

ErrorHandler = bool | str | Callable[..., str] | type[Exception] | tuple[type[Exception], ...]


class _Calls(TypedDict):
    calls: list[Any]
    results: Annotated[list[Any], operator.add]


class ToolNode:
    """A graph node that runs the tool calls of the last AI message.

    Add it with ``builder.add_node(ToolNode([search, send_email]))`` (named
    ``"tools"``) and route to it with :func:`tools_condition`. It returns one
    tool message per call, in call order, under ``messages``.

    Input is the state (or a bare list of messages), or a single call
    ``{"__tool_call__": {"id", "name", "args"}}`` for routers that ``Send``
    each call themselves.

    Args:
        tools: Plain functions (called with the arguments as keywords) or
            LangChain tools. Async tools need ``ainvoke``/``astream``.
        name: The node's default name in ``add_node``.
        handle_tool_errors: What the model sees when a tool fails: ``True``
            (the error, the default), ``False`` (raise it), a fixed string, a
            callable ``(exception) -> str``, or exception classes to report
            (others are raised). A call to an unknown tool is always reported.
        messages_key: The state key holding the chat history.

    Raises:
        GraphBuildError: A tool is neither a function nor a LangChain tool, or
            two tools share a name.
    """

    def __new__(cls, tools: Sequence[Any], **_options: Any) -> ToolNode:
        if cls is ToolNode and any(as_tool(t).is_async for t in tools):
            cls = _AsyncToolNode
        return super().__new__(cls)

    def __init__(
        self,
        tools: Sequence[Any],
        *,
        name: str = "tools",
        handle_tool_errors: ErrorHandler = True,
        messages_key: str = "messages",
    ) -> None:
        self.name = name
        self.handle_tool_errors = handle_tool_errors
        self.messages_key = messages_key
        self._tools: dict[str, Tool] = {}
        self.tools_by_name: dict[str, Any] = {}
        for original in tools:
            tool = as_tool(original)
            if tool.name in self._tools:
                raise GraphBuildError(
                    f"Two tools are named {tool.name!r}; the model calls tools by name, so "
                    "give each a unique one."
                )
            self._tools[tool.name] = tool
            self.tools_by_name[tool.name] = original
        self._fan_out_graph = self._build_fan_out()

    def __repr__(self) -> str:
        return f"ToolNode(tools=[{', '.join(self._tools)}], name={self.name!r})"

    # -- the node -------------------------------------------------------------

    def __call__(self, input: Any) -> Any:
        calls, langchain = self._calls(input)
        if len(calls) > 1:
            result = self._fan_out_graph.invoke({"calls": _payloads(calls, langchain)})
            return self._output(input, _in_order(result["results"]))
        return self._output(input, [self._run(call, langchain) for call in calls])

    def invoke(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """Run the node outside a graph (as LangGraph's ``ToolNode.invoke``)."""
        return self(input)

    async def ainvoke(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """Run the node outside a graph, in a worker thread (its tools are sync)."""
        return await asyncio.to_thread(self, input)

    def _run(self, call: ToolCall, langchain: bool) -> Any:
        tool, refused = self._check(call, langchain)
        if tool is None:
            return refused
        try:
            result = tool.call(call)
        except Exception as exc:
            return self._failed(call, exc, langchain)
        return self._message(tool, call, result, langchain)

    def _run_payload(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        message = self._run(payload[TOOL_CALL_KEY], bool(payload.get(_LANGCHAIN_KEY)))
        return {"results": [[payload["index"], message]]}

    def _call_node(self) -> Callable[[Mapping[str, Any]], Any]:
        return self._run_payload

    # -- shared by the sync and async nodes -----------------------------------

    def _build_fan_out(self) -> Any:
        from pausegraph.graph import START, StateGraph
        from pausegraph.types import Send

        def fan_out(state: _Calls) -> list[Send]:
            return [Send("tool_call", payload) for payload in state["calls"]]

        builder = StateGraph(_Calls)
        builder.add_node("tool_call", self._call_node())
        builder.add_conditional_edges(START, fan_out)
        return builder.compile()

    def _calls(self, input: Any) -> tuple[list[ToolCall], bool]:
        if isinstance(input, Mapping) and TOOL_CALL_KEY in input:
            call = tool_calls_of({"tool_calls": [input[TOOL_CALL_KEY]]})[0]
            return [call], bool(input.get(_LANGCHAIN_KEY))
        message = last_ai_message(messages_of(input, self.messages_key))
        return tool_calls_of(message), not isinstance(message, Mapping)

    def _output(self, input: Any, messages: list[Any]) -> Any:
        if isinstance(input, list | tuple):
            return messages
        return {self.messages_key: messages}

    def _check(self, call: ToolCall, langchain: bool) -> tuple[Tool | None, Any]:
        """The tool to run, or ``(None, error message)`` when the call cannot run."""
        tool = self._tools.get(call["name"])
        if tool is None:
            names = ", ".join(self._tools)
            text = f"Error: {call['name']} is not a valid tool, try one of [{names}]."
            return None, tool_message(call, text, langchain=langchain, error=True)
        problems = tool.problems(call["args"])
        if not problems:
            return tool, None
        exc = ToolInvocationError(
            f"Tool {tool.name!r} cannot take the arguments {call['args']!r}: "
            f"{'; '.join(problems)}. Expected arguments: {tool.describe()}.",
            tool_name=tool.name,
            tool_args=call["args"],
        )
        return None, self._failed(call, exc, langchain)

    def _failed(self, call: ToolCall, exc: Exception, langchain: bool) -> Any:
        content = self._report(exc)
        if content is None:
            raise exc
        return tool_message(call, content, langchain=langchain, error=True)

    def _report(self, exc: Exception) -> str | None:
        """What the model is told about ``exc``, or ``None`` to raise it."""
        handler = self.handle_tool_errors
        default = f"Error: {exc if isinstance(exc, ToolNodeError) else repr(exc)}\n"
        default += " Please fix your mistakes."
        if handler is True:
            return default
        if handler is False:
            return None
        if isinstance(handler, str):
            return handler
        if isinstance(handler, type | tuple):
            return default if isinstance(exc, handler) else None
        return str(handler(exc))

    def _message(self, tool: Tool, call: ToolCall, result: Any, langchain: bool) -> Any:
        from pausegraph.types import Command

        if isinstance(result, Command):
            raise ToolNodeError(
                f"Tool {tool.name!r} returned a Command; pausegraph's ToolNode does not apply "
                "Commands from tools. Return the tool's result, and route in a node."
            )
        if isinstance(tool, LangChainTool) and getattr(result, "type", None) == "tool":
            # LangChain tools answer a tool call with a ToolMessage of their own.
            return result if langchain else as_dict_message(result)
        return tool_message(call, content_of(result), langchain=langchain)


class _AsyncToolNode(ToolNode):
    """A ToolNode with async tools: the same node, awaited (chosen by ``ToolNode(...)``)."""

    async def __call__(self, input: Any) -> Any:
        calls, langchain = self._calls(input)
        if len(calls) > 1:
            result = await self._fan_out_graph.ainvoke({"calls": _payloads(calls, langchain)})
            return self._output(input, _in_order(result["results"]))
        return self._output(input, [await self._arun(call, langchain) for call in calls])

    def invoke(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """Refused: a ToolNode with async tools must be awaited.

        Raises:
            ToolNodeError: Always; use :meth:`ainvoke`.
        """
        async_tools = ", ".join(name for name, tool in self._tools.items() if tool.is_async)
        raise ToolNodeError(
            f"This ToolNode has async tools ({async_tools}): use `await node.ainvoke(...)`, and "
            "run its graph with ainvoke()/astream()."
        )

    async def ainvoke(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """Run the node outside a graph (as LangGraph's ``ToolNode.ainvoke``)."""
        return await self(input)

    async def _arun(self, call: ToolCall, langchain: bool) -> Any:
        tool, refused = self._check(call, langchain)
        if tool is None:
            return refused
        try:
            if tool.is_async:
                result = await tool.call(call)
            else:  # a sync tool must not block the loop; to_thread keeps the task context
                result = await asyncio.to_thread(tool.call, call)
        except Exception as exc:
            return self._failed(call, exc, langchain)
        return self._message(tool, call, result, langchain)

    async def _run_payload_async(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        message = await self._arun(payload[TOOL_CALL_KEY], bool(payload.get(_LANGCHAIN_KEY)))
        return {"results": [[payload["index"], message]]}

    def _call_node(self) -> Callable[[Mapping[str, Any]], Any]:
        return self._run_payload_async


def _payloads(calls: list[ToolCall], langchain: bool) -> list[dict[str, Any]]:
    return [
        {"index": i, TOOL_CALL_KEY: dict(call), _LANGCHAIN_KEY: langchain}
        for i, call in enumerate(calls)
    ]


def _in_order(results: list[Any]) -> list[Any]:
    return [message for _, message in sorted(results, key=lambda r: r[0])]
