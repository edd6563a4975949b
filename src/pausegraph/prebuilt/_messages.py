"""Reading tool calls out of chat messages and writing tool results back.

Messages are plain dicts (``{"role": "assistant", "content": ..., "tool_calls":
[...]}``) or LangChain message objects when ``langchain-core`` is installed.
Results take the form of the message that asked for them: a dict tool message
answers a dict AI message, a LangChain ``ToolMessage`` answers an ``AIMessage``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from pausegraph.prebuilt._errors import ToolNodeError

__all__ = [
    "ToolCall",
    "as_dict_message",
    "content_of",
    "is_ai_message",
    "last_ai_message",
    "messages_of",
    "tool_calls_of",
    "tool_message",
]

_AI_ROLES = frozenset({"assistant", "ai"})


class ToolCall(TypedDict):
    """One call the model asked for: its id, the tool's name and the arguments."""

    id: str
    name: str
    args: Any


def messages_of(state: Any, key: str) -> Sequence[Any]:
    """The message list of ``state``: the state itself if it is a list, else its ``key``.

    Raises:
        ToolNodeError: ``state`` holds no messages.
    """
    if isinstance(state, list | tuple):
        messages: Any = state
    elif isinstance(state, Mapping):
        messages = state.get(key)
    else:
        messages = getattr(state, key, None)
    if not messages:
        raise ToolNodeError(
            f"No messages found in the input ({type(state).__name__} without a non-empty "
            f"{key!r}). A ToolNode runs the tool calls of the last AI message in "
            f"state[{key!r}]; pass messages_key=... if your history lives elsewhere."
        )
    return list(messages)


def is_ai_message(message: Any) -> bool:
    """Whether ``message`` was written by the model (a dict or a LangChain ``AIMessage``)."""
    if isinstance(message, Mapping):
        return message.get("role", message.get("type")) in _AI_ROLES
    return getattr(message, "type", None) == "ai"


def last_ai_message(messages: Sequence[Any]) -> Any:
    """The newest AI message in ``messages``.

    Raises:
        ToolNodeError: There is none.
    """
    for message in reversed(messages):
        if is_ai_message(message):
            return message
    raise ToolNodeError(
        "No AI message found in the input: a ToolNode runs the tool calls of the last "
        "assistant message, and the history has none. Route to the ToolNode only after the "
        "model answered (tools_condition does that)."
    )


def tool_calls_of(message: Any) -> list[ToolCall]:
    """The tool calls of an AI message, in LangChain's ``{"id", "name", "args"}`` form.

    OpenAI's form (``{"id", "function": {"name", "arguments": "<json>"}}``) is
    converted; arguments that are not valid JSON are kept as the string, which
    the tool then refuses as arguments that do not fit.
    """
    raw = message.get("tool_calls") if isinstance(message, Mapping) else message.tool_calls
    return [_normalize(call) for call in raw or ()]


def _normalize(call: Mapping[str, Any]) -> ToolCall:
    function = call.get("function")
    if isinstance(function, Mapping):
        name, args = function.get("name", ""), function.get("arguments", {})
    else:
        name, args = call.get("name", ""), call.get("args", {})
    if isinstance(args, str):
        with contextlib.suppress(ValueError):  # not JSON: the tool refuses it as arguments
            args = json.loads(args) if args.strip() else {}
    return ToolCall(id=str(call.get("id") or ""), name=str(name), args=args)


def content_of(result: Any) -> Any:
    """A tool's return value as message content: strings as they are, other values as JSON.

    Values JSON cannot encode fall back to ``str()``, as LangChain does.
    """
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(result)


def tool_message(call: ToolCall, content: Any, *, langchain: bool, error: bool = False) -> Any:
    """The message answering ``call``: a dict, or a LangChain ``ToolMessage``.

    Args:
        call: The call being answered.
        content: The message content (see :func:`content_of`).
        langchain: Build a ``ToolMessage`` (the call came from an ``AIMessage``).
        error: The call failed; marked ``status="error"``.
    """
    if langchain:
        from langchain_core.messages import ToolMessage

        return ToolMessage(
            content=content,
            name=call["name"],
            tool_call_id=call["id"],
            status="error" if error else "success",
        )
    message: dict[str, Any] = {
        "role": "tool",
        "content": content,
        "tool_call_id": call["id"],
        "name": call["name"],
    }
    if error:
        message["status"] = "error"
    return message


def as_dict_message(message: Any) -> dict[str, Any]:
    """A LangChain ``ToolMessage`` (returned by a LangChain tool) as a dict tool message."""
    out: dict[str, Any] = {
        "role": "tool",
        "content": message.content,
        "tool_call_id": message.tool_call_id,
        "name": message.name,
    }
    if getattr(message, "status", "success") == "error":
        out["status"] = "error"
    return out
