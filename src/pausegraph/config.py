"""Helpers a running node calls: ``get_stream_writer()``, ``get_config()`` and ``get_store()``.

Same module path as LangGraph's ``langgraph.config``.
"""

from pausegraph.runtime._context import get_config, get_stream_writer
from pausegraph.runtime._public import get_store

__all__ = ["get_config", "get_store", "get_stream_writer"]
