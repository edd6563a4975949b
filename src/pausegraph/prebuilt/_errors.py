"""Errors of the prebuilt tool helpers, placed in pausegraph's error tree::

    PauseGraphError
    └── GraphRunError
        └── ToolNodeError (ValueError) ......... a ToolNode cannot use its input or a tool
            └── ToolInvocationError ............ a tool call's arguments do not fit the tool

With ``handle_tool_errors=True`` (the default) a :class:`ToolInvocationError` is
not raised: the model gets it as an error tool message instead. Mistakes made
while building (two tools with one name, a bad review config) are
``GraphBuildError`` errors.
"""

from __future__ import annotations

from pausegraph.errors import GraphRunError

__all__ = ["ToolInvocationError", "ToolNodeError"]


class ToolNodeError(GraphRunError, ValueError):
    """A ``ToolNode`` got input it cannot run, or a tool returned what it cannot use."""


class ToolInvocationError(ToolNodeError):
    """A tool call's arguments do not fit the tool (raised when errors are not handled).

    Attributes:
        tool_name: The tool the model called.
        tool_args: The arguments it passed.
    """

    def __init__(self, message: str, *, tool_name: str, tool_args: object) -> None:
        super().__init__(message)
        self.tool_name = tool_name
        self.tool_args = tool_args
