"""The engine: a pure planner (``_planner``) and the loop that sync and async drivers share.

Public here, as in LangGraph's ``langgraph.runtime``: :class:`Runtime` and
:func:`get_runtime`.
"""

from pausegraph.runtime._public import Runtime, get_runtime

__all__ = ["Runtime", "get_runtime"]
