"""``InMemoryCache``: node results in this process's memory (LangGraph's module path)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pausegraph.cache.base import BaseCache, FullKey

__all__ = ["InMemoryCache"]


class InMemoryCache(BaseCache):
    """Node results kept in memory, copied in and out (so later edits change nothing saved)."""

    def __init__(self) -> None:
        self._items: dict[FullKey, tuple[Any, float | None]] = {}  # value, expiry (monotonic)
        self._lock = threading.Lock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        now = time.monotonic()
        found: dict[FullKey, Any] = {}
        with self._lock:
            for key in keys:
                entry = self._items.get(key)
                if entry is None:
                    continue
                value, expires = entry
                if expires is not None and expires <= now:
                    del self._items[key]
                    continue
                found[key] = value
        return {key: copy.deepcopy(value) for key, value in found.items()}

    def set(self, pairs: Mapping[FullKey, tuple[Any, float | None]]) -> None:
        now = time.monotonic()
        with self._lock:
            for key, (value, ttl) in pairs.items():
                expires = now + ttl if ttl is not None else None
                self._items[key] = (copy.deepcopy(value), expires)

    def clear(self, namespaces: Sequence[tuple[str, ...]] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._items.clear()
                return
            gone = set(namespaces)
            for key in [k for k in self._items if k[0] in gone]:
                del self._items[key]
