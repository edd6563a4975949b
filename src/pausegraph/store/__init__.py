"""The long-term store a graph's nodes share across threads (LangGraph's ``langgraph.store``).

:class:`~pausegraph.store.memory.InMemoryStore` keeps it in memory; compile a
graph with ``store=...`` and its nodes get it as a ``store`` parameter,
``runtime.store`` or :func:`pausegraph.config.get_store`.
"""

from pausegraph.store.base import BaseStore, InvalidNamespaceError, Item, SearchItem

__all__ = ["BaseStore", "InvalidNamespaceError", "Item", "SearchItem"]
