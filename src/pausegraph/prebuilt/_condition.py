"""``tools_condition``: after the model answers, run its tool calls or stop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pausegraph.prebuilt._errors import ToolNodeError

__all__ = ["tools_condition"]


def tools_condition(state: Any, messages_key: str = "messages") -> Literal["tools", "__end__"]:
    """Route to ``"tools"`` if the last message asks for tool calls, else to ``END``.

    Use it as the conditional edge after the model's node:
    ``builder.add_conditional_edges("agent", tools_condition)``. The values are
    LangGraph's: ``"tools"`` (the :class:`ToolNode`'s default name) and
    ``"__end__"``; map them with a path map if your tool node has another name.

    Args:
        state: The state (a dict or an object with the messages attribute), or
            a bare list of messages.
        messages_key: Where the chat history lives.

    Returns:
        ``"tools"`` or ``"__end__"``.

    Raises:
        ToolNodeError: The state has no messages.
    """
    if isinstance(state, list | tuple):
        messages: Any = state
    elif isinstance(state, Mapping):
        messages = state.get(messages_key)
    else:
        messages = getattr(state, messages_key, None)
    if not messages:
        raise ToolNodeError(
            f"No messages found in input state to tool_edge: {state!r}. tools_condition "
            f"reads state[{messages_key!r}]; pass messages_key=... if it lives elsewhere."
        )
    last = messages[-1]
    calls = last.get("tool_calls") if isinstance(last, Mapping) else getattr(last, "tool_calls", ())
    return "tools" if calls else "__end__"
