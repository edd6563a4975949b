"""What an entrypoint's callers see: return values where a graph would show its state.

The entrypoint graph keeps the run's input, the returned value and the value
saved for ``previous`` under three keys; these functions turn its results,
stream chunks and snapshots into the shapes LangGraph's functional API gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pausegraph.constants import INTERRUPT, START
from pausegraph.types import PregelTask, StateSnapshot

__all__ = ["END_KEY", "PREVIOUS_KEY", "START_KEY", "Shaper", "public_output", "public_snapshot"]

START_KEY = "__start__"
"""State key holding the current run's input."""
END_KEY = "__end__"
"""State key holding what the function returned last."""
PREVIOUS_KEY = "__previous__"
"""State key holding what the next run receives as ``previous``."""


def public_output(result: Mapping[str, Any]) -> Any:
    """What ``invoke`` returns for the graph's result ``result``.

    The return value; when paused, ``{"__interrupt__": [...]}``, merged into the
    last returned value when that is a dict (as LangGraph does).
    """
    end = result.get(END_KEY)
    interrupts = result.get(INTERRUPT)
    if not interrupts:
        return end
    out = dict(end) if isinstance(end, dict) else {}
    out[INTERRUPT] = interrupts
    return out


def _end_of(value: Any) -> Any:
    return value.get(END_KEY) if isinstance(value, Mapping) else value


def public_snapshot(state: StateSnapshot, name: str) -> StateSnapshot:
    """``state`` with the returned value as ``values`` and as the entrypoint task's result."""
    if state.created_at is None:  # no checkpoint yet: LangGraph shows the empty snapshot as is
        return state
    tasks = tuple(_public_task(t, name) for t in state.tasks)
    return state._replace(values=_end_of(state.values), tasks=tasks)


def _public_task(task: PregelTask, name: str) -> PregelTask:
    if task.result is None or not isinstance(task.result, Mapping):
        return task
    if task.name == name:
        return task._replace(result=task.result.get(END_KEY))
    if task.name == START:  # the input step: show the input, not how it is kept
        return task._replace(result=task.result.get(START_KEY))
    return task


class Shaper:
    """Turns the graph's stream items into the entrypoint's, shaped as the caller asked.

    Args:
        name: The entrypoint's name (its node).
        new_input: The run started from a new input (not a resume): its first
            ``values`` chunk (the input step's) is not shown, as in LangGraph.
        single: The caller asked for one stream mode: yield bare chunks.
        subgraphs: The caller asked for namespaces: yield ``(namespace, ...)``.
    """

    def __init__(self, name: str, new_input: bool, single: bool, subgraphs: bool) -> None:
        self.name = name
        self.skip_values = new_input
        self.resumed = not new_input
        self.single = single
        self.subgraphs = subgraphs

    def __call__(self, item: Any) -> Iterator[Any]:
        """Yield the caller's form of one ``(mode, chunk)`` item, or nothing."""
        if self.subgraphs:
            path, mode, chunk = item
        else:
            path, (mode, chunk) = (), item
        if not path:
            chunk = self._chunk(mode, chunk)
            if chunk is _SKIP:
                return
        if self.subgraphs:
            yield (path, chunk) if self.single else (path, mode, chunk)
        else:
            yield chunk if self.single else (mode, chunk)

    def _chunk(self, mode: str, chunk: Any) -> Any:
        if mode == "updates":
            if isinstance(chunk, Mapping) and self.name in chunk:
                return {self.name: _end_of(chunk[self.name])}
            return chunk
        if mode == "values":
            return self._values(chunk)
        if mode == "tasks":
            return self._task_event(chunk)
        if mode == "checkpoints":
            return {**chunk, "values": _end_of(chunk.get("values"))}
        if mode == "debug":
            payload = chunk.get("payload")
            if chunk.get("type") == "checkpoint":
                payload = {**payload, "values": _end_of(payload.get("values"))}
            else:
                payload = self._task_event(payload)
            return {**chunk, "payload": payload}
        return chunk

    def _values(self, chunk: Any) -> Any:
        first, self.skip_values = self.skip_values, False
        resumed, self.resumed = self.resumed, False
        if INTERRUPT in chunk:
            return public_output(chunk)
        if resumed:  # a resume starts with the last returned value, None before one
            return chunk.get(END_KEY)
        if first or END_KEY not in chunk:
            return _SKIP
        return chunk[END_KEY]

    def _task_event(self, payload: Any) -> Any:
        if not isinstance(payload, Mapping) or payload.get("name") != self.name:
            return payload
        out = dict(payload)
        if "triggers" in out:  # LangGraph's entrypoint runs off the input channel
            out["triggers"] = (START,)
        if isinstance(out.get("input"), Mapping):
            out["input"] = out["input"].get(START_KEY)
        result = out.get("result")
        if isinstance(result, Mapping) and END_KEY in result:
            out["result"] = {END_KEY: result[END_KEY]}
        return out


_SKIP: Any = object()
