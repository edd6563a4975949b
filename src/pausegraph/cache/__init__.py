"""Caches for node results (LangGraph's ``langgraph.cache``).

A node added with ``cache_policy=CachePolicy(...)`` in a graph compiled with
``cache=InMemoryCache()`` runs once per distinct input (per ``ttl``): a
later step with the same input takes the saved writes instead of running it.
"""

from pausegraph.cache.base import BaseCache

__all__ = ["BaseCache"]
