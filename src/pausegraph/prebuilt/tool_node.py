"""Same module path as LangGraph's ``langgraph.prebuilt.tool_node``."""

from pausegraph.prebuilt._condition import tools_condition
from pausegraph.prebuilt._errors import ToolInvocationError
from pausegraph.prebuilt._tool_node import ToolNode

__all__ = ["ToolInvocationError", "ToolNode", "tools_condition"]
