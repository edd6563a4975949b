"""``Runtime`` and ``get_runtime()``: what a run gives its nodes, as LangGraph 1.x's.

A node that takes a ``runtime`` argument gets the run's ``context`` (from
``invoke(..., context=...)``), its long-term store (``compile(store=...)``)
and its stream writer; ``get_runtime()`` returns the same from anywhere in a
running node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "CACHE_KEY",
    "CONTEXT_KEY",
    "STORE_KEY",
    "Runtime",
    "context_of",
    "get_runtime",
    "get_store",
    "runtime_for",
    "store_of",
]

ContextT = TypeVar("ContextT")

CONTEXT_KEY = "__pregel_runtime_context"
"""Where a run's context travels in ``config["configurable"]`` (so subgraphs get it too)."""

STORE_KEY = "__pregel_store"
"""Where a run's long-term store travels in ``config["configurable"]`` (LangGraph's key)."""

CACHE_KEY = "__pregel_cache"
"""Where an entrypoint's cache travels in ``config["configurable"]``, for its tasks."""


def _no_writer(chunk: Any) -> None:
    """Drops the chunk: the run does not stream ``custom``."""


def _no_heartbeat() -> None:
    """Nothing to renew."""


@dataclass(frozen=True)
class Runtime(Generic[ContextT]):
    """What a run gives its nodes besides the state.

    Attributes:
        context: The ``context`` the run was invoked with (``None`` if none).
        store: The graph's long-term store (``compile(store=...)``), or ``None``.
        stream_writer: Sends a ``custom`` stream chunk.
        heartbeat: Accepted for compatibility; does nothing.
        previous: Always ``None`` in graph nodes (entrypoints use ``previous=``).
    """

    context: ContextT = field(default=None)  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_writer
    heartbeat: Callable[[], None] = _no_heartbeat
    previous: Any = None


def context_of(config: Mapping[str, Any] | None) -> Any:
    """The run context carried in ``config`` (``None`` if none)."""
    return ((config or {}).get("configurable") or {}).get(CONTEXT_KEY)


def store_of(config: Mapping[str, Any] | None) -> Any:
    """The long-term store carried in ``config`` (``None`` if none)."""
    return ((config or {}).get("configurable") or {}).get(STORE_KEY)


def runtime_for(config: Mapping[str, Any], writer: Callable[[Any], None] | None) -> Runtime[Any]:
    """The :class:`Runtime` of a node running with ``config`` and ``writer``."""
    return Runtime(
        context=context_of(config), store=store_of(config), stream_writer=writer or _no_writer
    )


def get_runtime(context_schema: type[ContextT] | None = None) -> Runtime[ContextT]:
    """The :class:`Runtime` of the running node (``context_schema`` only types the result).

    Raises:
        OutsideNodeError: Called outside a running graph node.
    """
    from pausegraph.runtime._context import get_config, get_stream_writer

    return runtime_for(get_config(), get_stream_writer())


def get_store() -> Any:
    """The long-term store of the running node's graph (``compile(store=...)``), or ``None``.

    Raises:
        OutsideNodeError: Called outside a running graph node.
    """
    from pausegraph.runtime._context import get_config

    return store_of(get_config())
