"""Reading a run's ``config`` dict: thread id, checkpoint address, limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pausegraph.errors import InvalidConfigError, MissingCheckpointerError

__all__ = [
    "DEFAULT_RECURSION_LIMIT",
    "INTERNAL_KEYS",
    "Address",
    "address_of",
    "checkpoint_metadata",
    "recursion_limit_of",
]

T = TypeVar("T")

_EMPTY: Mapping[str, Any] = {}  # read only

DEFAULT_RECURSION_LIMIT = int(os.environ.get("PAUSEGRAPH_DEFAULT_RECURSION_LIMIT", "10007"))
"""Supersteps a run may take before ``GraphRecursionError`` (LangGraph 1.2's default)."""


INTERNAL_KEYS = frozenset(
    {"thread_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map", "langgraph_step",
     "langgraph_node", "langgraph_triggers", "langgraph_path", "langgraph_checkpoint_ns"}
)  # fmt: skip
"""Keys that say where a run is, never copied into metadata (LangGraph's list)."""

_BASE_KEYS = frozenset({"source", "step", "parents"})


def checkpoint_metadata(config: Mapping[str, Any]) -> dict[str, Any]:
    """The user metadata a run's checkpoints keep, as LangGraph's savers do.

    The ``str``, ``int``, ``float`` and ``bool`` values of ``config["metadata"]``,
    then of ``config["configurable"]`` (``user_id``, ...), except the keys that
    say where the run is and those starting with ``__``.
    """
    out: dict[str, Any] = {}
    conf = config.get("configurable") or _EMPTY
    run_id = {"run_id": conf["run_id"]} if "run_id" in conf else None  # LangGraph puts it first
    for part in (config.get("metadata"), run_id, conf):
        for key, value in (part or _EMPTY).items():
            if key in out or key in _BASE_KEYS or key in INTERNAL_KEYS or key.startswith("__"):
                continue
            if isinstance(value, str | int | float | bool):
                out[key] = value
    return out


class Address:
    """Where a run reads and writes: thread, namespace and (optional) checkpoint."""

    __slots__ = ("checkpoint_id", "ns", "thread_id")

    def __init__(self, thread_id: str | None, ns: str, checkpoint_id: str | None) -> None:
        self.thread_id = thread_id
        self.ns = ns
        self.checkpoint_id = checkpoint_id


def _is_uuid(value: Any) -> bool:
    cls = type(value)
    return cls.__name__ == "UUID" and cls.__module__ == "uuid"


def _thread_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise InvalidConfigError(
                "thread_id is an empty string; pass a non-empty id, e.g. "
                "config={'configurable': {'thread_id': 'order-42'}}."
            )
        return value
    if (isinstance(value, int) and not isinstance(value, bool)) or _is_uuid(value):
        return str(value)
    raise InvalidConfigError(
        f"thread_id must be a str (or an int or UUID), got {type(value).__name__} {value!r}. "
        "Pass config={'configurable': {'thread_id': 'some-id'}}."
    )


def address_of(config: Mapping[str, Any] | None) -> Address:
    """The address in ``config["configurable"]``.

    Raises:
        InvalidConfigError: ``config`` is not a dict, or ``thread_id`` has a wrong type.
    """
    if config is None:
        return Address(None, "", None)
    # type() first: isinstance() against the Mapping ABC is the slow way to say "dict".
    if type(config) is not dict and not isinstance(config, Mapping):
        raise InvalidConfigError(
            f"config must be a dict like {{'configurable': {{'thread_id': '1'}}}}, got "
            f"{type(config).__name__}."
        )
    conf = config.get("configurable") or _EMPTY
    if type(conf) is not dict and not isinstance(conf, Mapping):
        raise InvalidConfigError("config['configurable'] must be a dict, e.g. {'thread_id': '1'}.")
    checkpoint_id = conf.get("checkpoint_id")
    if checkpoint_id is not None and not isinstance(checkpoint_id, str):
        raise InvalidConfigError(f"checkpoint_id must be a str, got {checkpoint_id!r}.")
    ns = conf.get("checkpoint_ns") or ""
    value = conf.get("thread_id")
    thread_id = value if type(value) is str and value else _thread_id(value)  # str: no call
    return Address(thread_id, str(ns), checkpoint_id or None)


def recursion_limit_of(config: Mapping[str, Any] | None) -> int:
    """``config["recursion_limit"]`` (default :data:`DEFAULT_RECURSION_LIMIT`).

    Raises:
        InvalidConfigError: The limit is not a positive int.
    """
    limit = (config or {}).get("recursion_limit", DEFAULT_RECURSION_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InvalidConfigError(f"recursion_limit must be an int of at least 1, got {limit!r}.")
    return limit


def require_thread(address: Address, saver: T | None, what: str) -> tuple[str, T]:
    """The thread id and the saver, or an error naming what is missing and how to pass it."""
    if saver is None:
        raise MissingCheckpointerError(
            f"No checkpointer set: {what} needs one. Compile with "
            "builder.compile(checkpointer=InMemorySaver()) or another saver."
        )
    if address.thread_id is None:
        raise InvalidConfigError(
            f"{what} needs a thread_id: pass config={{'configurable': {{'thread_id': '...'}}}}."
        )
    return address.thread_id, saver
