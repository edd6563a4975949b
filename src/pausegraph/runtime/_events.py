"""What the ``tasks``, ``checkpoints`` and ``debug`` streams report, in LangGraph's shapes.

The run loop decides when a task starts or ends and when a checkpoint is
made; the payloads those moments are reported with are built here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._records import iso_from_micros
from pausegraph.graph._config import INTERNAL_KEYS
from pausegraph.runtime import _planner as P

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec
    from pausegraph.runtime._planner import Task

__all__ = ["debug_event", "now_iso", "task_result", "task_start"]


def now_iso() -> str:
    """The current UTC time in ISO 8601 with microseconds (``...+00:00``)."""
    return iso_from_micros(time.time_ns() // 1000)


def task_start(
    spec: GraphSpec, t: Task, values: Mapping[str, Any], config: Mapping[str, Any]
) -> dict[str, Any]:
    """A task about to run: its input (what the node reads of ``values``) and triggers.

    Carries the metadata and tags the caller gave the run, as LangGraph's does.
    """
    node = spec.nodes.get(t.name)
    inp = t.ref.arg if t.ref.push or node is None else node.input.view(values)
    payload = {"id": t.id, "name": t.name, "input": inp, "triggers": P.triggers(spec, t)}
    if config.get("metadata") or config.get("tags"):  # what the caller tagged the run with
        meta = {k: v for k, v in config.get("metadata", {}).items() if k not in INTERNAL_KEYS}
        if tags := [tag for tag in config.get("tags") or () if not tag.startswith("seq:step")]:
            meta["tags"] = tags
        if meta:
            payload["metadata"] = meta
    return payload


def task_result(t: Task) -> dict[str, Any]:
    """A task that ended: what it wrote, the exception it raised, or what it asks."""
    return {
        "id": t.id,
        "name": t.name,
        "error": t.error if isinstance(t.error, BaseException) else None,  # as LangGraph
        "result": dict(t.writes) if t.writes else {},
        "interrupts": [
            {"value": r["value"], "id": r["id"], "response_schema": r.get("schema")}
            for r in t.interrupts
        ]
        if not t.done
        else [],
    }


def debug_event(step: int, kind: str, timestamp: str, payload: Any) -> dict[str, Any]:
    """A ``debug`` chunk: a ``checkpoint``, ``task`` or ``task_result`` payload, dated."""
    return {"step": step, "timestamp": timestamp, "type": kind, "payload": payload}
