"""Ready-made pieces for tool-calling agents, with LangGraph's names.

* :class:`ToolNode` runs the tool calls of the last AI message, in parallel,
  one task per call, so an ``interrupt()`` inside a tool pauses only that call.
* :func:`tools_condition` routes to ``"tools"`` when the model asked for
  tools, else to ``END``.
* :func:`create_react_agent` builds LangGraph's ready-made agent from those:
  the model calls tools until it can answer.
* :func:`with_human_review` makes a tool wait for a person's accept / edit /
  response / ignore (the Agent Inbox schema: :class:`HumanInterrupt`,
  :class:`HumanResponse`), with answers checked before they are stored.
"""

from pausegraph.prebuilt._agent_inbox import (
    ActionRequest,
    HumanInterrupt,
    HumanInterruptConfig,
    HumanResponse,
)
from pausegraph.prebuilt._condition import tools_condition
from pausegraph.prebuilt._errors import ToolInvocationError, ToolNodeError
from pausegraph.prebuilt._react import create_react_agent
from pausegraph.prebuilt._review import with_human_review
from pausegraph.prebuilt._tool_node import ToolNode

__all__ = [
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
]
