"""What a node-result cache offers the run loop (LangGraph's ``BaseCache`` shape)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["BaseCache", "FullKey"]

FullKey = tuple[tuple[str, ...], str]
"""``(namespace, key)``: the namespace names the node, the key its input."""


class BaseCache:
    """Saved node results by ``(namespace, key)``, each with an optional time to live."""

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        """The values found for ``keys`` (missing and expired ones left out)."""
        raise NotImplementedError

    def set(self, pairs: Mapping[FullKey, tuple[Any, float | None]]) -> None:
        """Save ``{key: (value, ttl seconds or None)}``."""
        raise NotImplementedError

    def clear(self, namespaces: Sequence[tuple[str, ...]] | None = None) -> None:
        """Forget the values of ``namespaces`` (all of them when ``None``)."""
        raise NotImplementedError

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        """Async :meth:`get`."""
        return self.get(keys)

    async def aset(self, pairs: Mapping[FullKey, tuple[Any, float | None]]) -> None:
        """Async :meth:`set`."""
        self.set(pairs)

    async def aclear(self, namespaces: Sequence[tuple[str, ...]] | None = None) -> None:
        """Async :meth:`clear`."""
        self.clear(namespaces)
