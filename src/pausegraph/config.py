"""Helpers a running node calls: ``get_stream_writer()`` and ``get_config()``.

Same module path as LangGraph's ``langgraph.config``.
"""

from pausegraph.runtime._context import get_config, get_stream_writer

__all__ = ["get_config", "get_stream_writer"]
