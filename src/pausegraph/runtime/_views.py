"""How checkpoints look from outside: configs, ``StateSnapshot``\\ s, debug payloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, created_at_of, metadata_of
from pausegraph.constants import INTERRUPT
from pausegraph.runtime._planner import DERIVED, INPUT_TASK, Task, apply_writes, plan, write_order
from pausegraph.types import Interrupt, PregelTask, StateSnapshot

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec


__all__ = [
    "checkpoint_config",
    "interrupts_of",
    "live_values",
    "snapshot",
]


_BASE_KEYS = ("source", "step", "parents")


def checkpoint_config(cp: Checkpoint) -> dict[str, Any]:
    """The config that addresses ``cp`` (a nested graph's also maps its parents' checkpoints)."""
    conf: dict[str, Any] = {
        "thread_id": cp.thread_id,
        "checkpoint_ns": cp.ns,
        "checkpoint_id": cp.id,
    }
    if cp.ns and (parents := cp.metadata.get("parents")):
        conf["checkpoint_map"] = {**parents, cp.ns: cp.id}
    return {"configurable": conf}


def parent_config(cp: Checkpoint) -> dict[str, Any] | None:
    """The config of ``cp``'s parent, or ``None``."""
    if cp.parent_id is None:
        return None
    conf: dict[str, Any] = {
        "thread_id": cp.thread_id,
        "checkpoint_ns": cp.ns,
        "checkpoint_id": cp.parent_id,
    }
    if cp.ns and (parents := cp.metadata.get("parents")):
        conf["checkpoint_map"] = {**parents, cp.ns: cp.id}  # as LangGraph: this one's id
    return {"configurable": conf}


def interrupt_of(record: Mapping[str, Any]) -> Interrupt:
    """The public :class:`Interrupt` of a stored interrupt record."""
    return Interrupt(record["value"], record["id"], record.get("schema"))


def interrupts_of(tasks: Sequence[Task]) -> tuple[Interrupt, ...]:
    """Pending interrupts of ``tasks``, in task order."""
    return tuple(interrupt_of(r) for t in tasks if not t.done for r in t.interrupts)


def input_writes(writes: Sequence[PendingWrite]) -> list[tuple[str, Any]]:
    """State writes a resume's ``Command(update=...)`` stored against the checkpoint."""
    for w in writes:
        if w.task_id == INPUT_TASK and w.channel == "__writes__":
            return [(k, v) for k, v in w.value]
    return []


def live_values(
    spec: GraphSpec, cp: Checkpoint, tasks: Sequence[Task], extra: Sequence[tuple[str, Any]] = ()
) -> dict[str, Any]:
    """``cp``'s values plus the writes of its tasks that already finished."""
    values: Mapping[str, Any] = cp.values
    if extra:  # applied before the tasks' writes, as in _next_checkpoint
        values = apply_writes(spec, values, [("__input__", extra)])[0]
    batches = [(t.name, t.writes) for t in write_order(tasks) if t.writes]
    if not batches:
        return dict(values)
    return apply_writes(spec, values, batches)[0]


def state_values(spec: GraphSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every key that has a value, in schema order (all keys for ``dict`` states).

    As in LangGraph, this includes the keys only an input, output or node
    schema declares (private state): ``get_state`` and the ``values`` stream
    show them; only ``invoke``'s result is limited to the output schema.
    """
    if spec.state.kind == "dict":
        return dict(values)
    return {k: values[k] for k in spec.channels if k in values}


def output_values(spec: GraphSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of the output schema that have a value."""
    if spec.output.kind == "dict":
        return dict(values)
    out = {}  # every run's result: a loop costs less than a comprehension
    for k in spec.output.keys:
        if k in values:
            out[k] = values[k]
    return out


def select_output(values: dict[str, Any], keys: str | Sequence[str] | None) -> Any:
    """What a run returns or streams as its values with ``output_keys=keys``, as in LangGraph.

    A str: that key's value (``None`` when it has none); a sequence: a dict of
    those keys that have values, ``None`` when none has. Values that carry
    ``"__interrupt__"`` (a paused run) keep it (alone, for a str).
    """
    if keys is None:
        return values
    interrupts = values.get(INTERRUPT)
    if isinstance(keys, str):
        return {INTERRUPT: interrupts} if interrupts is not None else values.get(keys)
    picked = {key: values[key] for key in keys if key in values}
    if interrupts is not None:
        picked[INTERRUPT] = interrupts
    return picked or None


def select_update(update: dict[str, Any] | None, keys: str | Sequence[str]) -> Any:
    """A node's ``updates`` chunk with ``output_keys=keys``: the keys it wrote among them.

    A str: the value it wrote to that key, else ``None``; a sequence: a dict
    of those it wrote, ``None`` when it wrote none of them.
    """
    if not update:
        return None
    if isinstance(keys, str):
        return update.get(keys)
    return {key: update[key] for key in keys if key in update} or None


def _changes(cp: Checkpoint, child: Checkpoint) -> dict[str, Any]:
    """What the step from ``cp`` to ``child`` wrote, as far as ``child`` shows it."""
    out: dict[str, Any] = {}
    for key, value in child.values.items():
        if child.versions.get(key) == child.id:
            out[key] = value
        elif child.chains.get(key, 0) > cp.chains.get(key, 0):
            out[key] = value[len(cp.values.get(key, ())) :]
    return out


def _task_result(
    spec: GraphSpec, t: Task, cp: Checkpoint, child: Checkpoint | None, alone: bool
) -> Any:
    if t.writes is None:
        # A step's only task stores nothing the next checkpoint already holds.
        if alone and child is not None and child.parent_id == cp.id and child.source == "loop":
            changes = _changes(cp, child)
            if len(changes) < 2:
                return changes
            # The node's return order is not kept; schema order is what nodes (and
            # subgraphs, which return their state) mostly write in, as LangGraph shows.
            order = {key: i for i, key in enumerate(spec.channels)}
            return dict(sorted(changes.items(), key=lambda kv: order.get(kv[0], len(order))))
        return None
    result = {}
    for key, value in t.writes:
        if value != DERIVED:
            result[key] = value
        elif child is not None and child.parent_id == cp.id and key in child.values:
            new = child.values[key]
            if getattr(spec.channels.get(key), "reducer", None) is not None:  # appended items
                new = new[len(cp.values.get(key, ())) :]
            result[key] = new
    return result


def _error_text(error: Any) -> str | None:
    if error is None:
        return None
    return error if isinstance(error, str) else repr(error)


def snapshot(
    spec: GraphSpec,
    cp: Checkpoint,
    writes: Sequence[PendingWrite],
    *,
    live: bool,
    child: Checkpoint | None = None,
) -> StateSnapshot:
    """``cp`` as a :class:`StateSnapshot`.

    Args:
        live: Show the thread's present: values include the writes of tasks
            that already finished and ``next`` lists only unfinished tasks (as
            ``get_state`` on a thread does). Otherwise show ``cp`` as stored.
        child: The checkpoint after ``cp``, if known: task results stored as
            ``DERIVED`` are read back from it.
    """
    tasks = plan(cp, writes)
    if len(tasks) > len(cp.frontier):
        # As LangGraph, a node a resume's Command(goto=...) added is not shown once it
        # finished: it belongs to the step only when that step completes.
        n = len(cp.frontier)
        tasks = tasks[:n] + [t for t in tasks[n:] if not t.done]
    extra = input_writes(writes)
    if live:
        # Nodes a resume's Command(goto=...) added are not part of the checkpoint's
        # step until it completes (as in LangGraph): their writes are not shown yet.
        values = live_values(spec, cp, tasks[: len(cp.frontier)], extra)
        next_ = tuple(t.name for t in tasks if not t.done)
    else:
        # A resume's update is kept with the checkpoint its step ran from, as in LangGraph.
        values = live_values(spec, cp, (), extra) if extra else dict(cp.values)
        next_ = tuple(t.name for t in tasks)
    alone = len(tasks) == 1
    # Positional arguments: NamedTuples build several times faster without keywords.
    pregel_tasks = tuple(
        PregelTask(
            t.id,
            t.name,
            t.path,
            _error_text(t.error) if not t.done or live is False else None,  # error
            # Live: what still waits. History: every interrupt the step raised,
            # answered ones too, as LangGraph records the step.
            tuple(interrupt_of(r) for r in t.interrupts) if not t.done or not live else (),
            None,  # state: filled in for subgraph nodes by get_state
            _task_result(spec, t, cp, child, alone),  # result
        )
        for t in tasks
    )
    return StateSnapshot(
        state_values(spec, values),
        next_,
        checkpoint_config(cp),
        metadata_of(cp),
        cp.created_at or created_at_of(cp.id),
        parent_config(cp),
        pregel_tasks,
        interrupts_of(tasks) if live else tuple(i for t in pregel_tasks for i in t.interrupts),
    )


def empty_snapshot(config: Mapping[str, Any]) -> StateSnapshot:
    """The snapshot of a thread that has no checkpoint yet."""
    return StateSnapshot(
        values={},
        next=(),
        config={"configurable": dict(config.get("configurable", {}))},
        metadata=None,
        created_at=None,
        parent_config=None,
        tasks=(),
        interrupts=(),
    )


def debug_checkpoint(spec: GraphSpec, cp: Checkpoint, tasks: Sequence[Task]) -> dict[str, Any]:
    """The payload of a ``checkpoint`` debug event."""
    conf: dict[str, dict[str, Any]] = {
        "configurable": {"checkpoint_ns": cp.ns, "thread_id": cp.thread_id, "checkpoint_id": cp.id}
    }
    parent: dict[str, dict[str, Any]] | None = None
    if cp.parent_id is not None:
        parent = {
            "configurable": {
                "checkpoint_ns": cp.ns,
                "thread_id": cp.thread_id,
                "checkpoint_id": cp.parent_id,
            }
        }
    if cp.ns and (parents := cp.metadata.get("parents")):
        conf["configurable"]["checkpoint_map"] = {**parents, cp.ns: cp.id}
        if parent is not None:
            parent["configurable"]["checkpoint_map"] = {**parents, cp.ns: cp.id}
    return {
        "config": conf,
        "parent_config": parent,
        "values": state_values(spec, cp.values),
        # As LangGraph: the metadata the run writes, without the config's keys.
        "metadata": {k: v for k, v in metadata_of(cp).items() if k in _BASE_KEYS},
        "next": [t.name for t in tasks],
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "interrupts": tuple(interrupt_of(r) for r in t.interrupts),
                "state": None,
            }
            for t in tasks
        ],
    }


def resumed_checkpoint(
    spec: GraphSpec, cp: Checkpoint, tasks: Sequence[Task], extra: Sequence[tuple[str, Any]]
) -> dict[str, Any]:
    """The ``checkpoint`` event a resumed run starts with, as LangGraph reports it.

    Its values include the resume's update; its tasks show the results of
    those that finished and the interrupts of those that paused.
    """
    payload = debug_checkpoint(spec, cp, tasks)
    payload["metadata"] = metadata_of(cp)  # as the saver gives it back: the config's keys too
    if extra:
        payload["values"] = state_values(spec, live_values(spec, cp, [], extra))
    if payload["parent_config"] is not None:  # as the saver gives it back
        payload["parent_config"] = {
            "configurable": {
                "thread_id": cp.thread_id,
                "checkpoint_ns": cp.ns,
                "checkpoint_id": cp.parent_id,
            }
        }
    entries = []
    for t in tasks:
        entry: dict[str, Any] = {"id": t.id, "name": t.name}
        if t.done:
            entry["result"] = dict(t.writes) if t.writes else {}
        entry["interrupts"] = tuple(
            {"value": r["value"], "id": r["id"], "response_schema": r.get("schema")}
            for r in (t.interrupts if not t.done else ())
        )
        entry["state"] = None
        entries.append(entry)
    payload["tasks"] = entries
    return payload
