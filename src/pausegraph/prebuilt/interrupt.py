"""Same module path as LangGraph's ``langgraph.prebuilt.interrupt``: the Agent Inbox types."""

from pausegraph.prebuilt._agent_inbox import (
    ActionRequest,
    HumanInterrupt,
    HumanInterruptConfig,
    HumanResponse,
)

__all__ = ["ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"]
