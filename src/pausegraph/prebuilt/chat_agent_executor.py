"""Same module path as LangGraph's ``langgraph.prebuilt.chat_agent_executor``."""

from pausegraph.prebuilt._react import AgentState, create_react_agent

__all__ = ["AgentState", "create_react_agent"]
