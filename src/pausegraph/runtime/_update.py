"""``update_state``: apply values as if a node had returned them, as a new checkpoint."""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._records import (
    Checkpoint,
    StoredCheckpoint,
    TaskRef,
    created_at_of,
    new_checkpoint_id,
)
from pausegraph.constants import END, START
from pausegraph.errors import CheckpointNotFoundError, InvalidUpdateError
from pausegraph.runtime import _planner as P
from pausegraph.runtime._loop import LOAD, SAVE, materialized
from pausegraph.runtime._planner import Task
from pausegraph.runtime._tasks import finish_flow
from pausegraph.runtime._views import checkpoint_config

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec


__all__ = ["COPY", "Update", "update_flow"]


def _infer_as_node(spec: GraphSpec, cp: Checkpoint | None) -> str:
    if cp is None or not cp.writers:
        return START
    writers = [w for w in cp.writers if w in spec.nodes or w == START]
    if len(writers) == 1:
        return writers[0]
    if not writers:
        return START
    raise InvalidUpdateError(
        f"Ambiguous update, specify as_node: the last step ran {', '.join(map(repr, writers))} "
        "in parallel, so it is unclear whose update this is. Pass as_node='<node name>'."
    )


Update = tuple[Any, "str | None"]
"""One update: ``(values, as_node)``."""

COPY = "__copy__"
"""``as_node`` that copies a checkpoint as it is (a fork), as in LangGraph."""


def update_flow(
    spec: GraphSpec,
    *,
    thread_id: str,
    ns: str,
    checkpoint_id: str | None,
    supersteps: Sequence[Sequence[Update]],
    metadata: Mapping[str, Any],
    config: dict[str, Any],
    what: str = "update_state()",
) -> Generator[Any, Any, dict[str, Any]]:
    """Yields load/save effects and router calls; returns the last new checkpoint's config.

    Each superstep becomes one checkpoint: its updates are applied together,
    as if those nodes had run in one step (reducers fold them; two values for
    a key without one are refused). Every checkpoint is worked out before the
    first is saved, so an update that does not fit leaves the thread unchanged.

    Raises:
        InvalidUpdateError: ``as_node`` names no node, the update does not fit
            the state, or ``as_node`` is needed and missing.
        CheckpointNotFoundError: ``checkpoint_id`` does not exist.
    """
    _check_supersteps(spec, supersteps, what)
    stored: StoredCheckpoint | None = yield (LOAD, thread_id, ns, checkpoint_id)
    if stored is None and checkpoint_id is not None:
        raise CheckpointNotFoundError(
            f"Thread {thread_id!r} has no checkpoint {checkpoint_id!r}; take ids from "
            "get_state_history(config)."
        )
    prev = stored.checkpoint if stored is not None else None
    made: list[Checkpoint] = []
    for updates in supersteps:
        cp = yield from _superstep(spec, thread_id, ns, prev, updates, metadata, config)
        if (prev is not None and prev.id == checkpoint_id) or updates[0][1] == COPY:
            cp = materialized(cp)  # a new branch: it must not share chained chunks
        made.append(cp)
        prev = cp
    for i, cp in enumerate(made):
        yield (SAVE, cp, (), i == len(made) - 1)
    return checkpoint_config(made[-1])


def _check_supersteps(spec: GraphSpec, supersteps: Sequence[Sequence[Update]], what: str) -> None:
    """Refuse what no state could take, before anything is loaded."""
    if not supersteps:
        raise InvalidUpdateError(f"{what} got no supersteps: pass a list of lists of updates.")
    for updates in supersteps:
        if not updates:
            raise InvalidUpdateError(
                f"{what} got an empty superstep: each one needs at least one (values, as_node)."
            )
        several = len(updates) > 1
        for values, as_node in updates:
            if as_node == COPY:
                if several:
                    raise InvalidUpdateError(
                        f"as_node={COPY!r} copies a checkpoint as it is, so it must be alone in "
                        "its superstep; put the updates for the copy in the next superstep."
                    )
                if values is not None:
                    raise InvalidUpdateError(
                        f"as_node={COPY!r} copies a checkpoint as it is and takes values=None "
                        "(LangGraph ignores values here; pausegraph refuses them). To change the "
                        "copy, update it afterwards, or in the next superstep."
                    )
                continue
            if as_node is None and several:
                raise InvalidUpdateError(
                    "as_node is required when a superstep applies several updates: name the "
                    "node each update comes from."
                )
            if as_node is not None and as_node not in spec.nodes and as_node not in (START, END):
                raise InvalidUpdateError(
                    f"Node {as_node!r} does not exist, so {what} cannot apply values as it. "
                    f"Use one of: {', '.join(repr(n) for n in spec.nodes)} (or END with "
                    "values=None to drop the pending tasks)."
                )
            if as_node == END and values is not None:
                raise InvalidUpdateError(
                    f"{what} with as_node=END only takes values=None (it drops the pending "
                    "tasks). To change values, pass them with as_node set to a node, or "
                    "without as_node."
                )
            if as_node == END and several:
                raise InvalidUpdateError(
                    "as_node=END drops the pending tasks, so it must be alone in its superstep."
                )


def _superstep(
    spec: GraphSpec,
    thread_id: str,
    ns: str,
    prev: Checkpoint | None,
    updates: Sequence[Update],
    metadata: Mapping[str, Any],
    config: dict[str, Any],
) -> Generator[Any, Any, Checkpoint]:
    """The checkpoint after ``prev`` that applies ``updates`` as one step (not saved)."""
    new_id = new_checkpoint_id()
    if prev is None:
        base_values = P.initial_values(spec)
        base_versions = dict.fromkeys(base_values, new_id)
        base = Checkpoint(thread_id, ns, new_id, None, -1, "input", "", base_values, base_versions)
    else:
        base = prev
    step = base.step + 1
    if updates[0][1] == COPY:  # a sibling of the copied checkpoint, as in LangGraph
        if prev is None:
            raise InvalidUpdateError(
                f"Thread {thread_id!r} has no checkpoint to copy: run it first, or give "
                "update_state values (without as_node='__copy__') to start it from them."
            )
        return base._replace(
            id=new_id,
            step=step,
            source="fork",
            created_at=created_at_of(new_id),
            metadata=_with_parents(metadata, prev),
        )
    nodes: list[str] = []
    if updates[0][1] == END:
        frontier: tuple[Any, ...] = ()
        barriers = dict(base.barriers)
        new_values, changed = dict(base.values), list[str]()
        nodes.append(END)
    else:
        batches: list[tuple[str, list[tuple[str, Any]]]] = []
        routes: list[tuple[str, Any]] = []
        for i, (values, as_node) in enumerate(updates):
            node = as_node if as_node is not None else _infer_as_node(spec, prev)
            index = "update" if i == 0 else f"update:{i}"
            ref = TaskRef(node, False, values)
            task = Task(new_id, ns, index, node, (P.PULL, node), ref, step)
            who = f"update_state(as_node={node!r})"
            yield from finish_flow(
                spec, task, base.values, values, config=config, writer=None, who=who
            )
            if task.error is not None:
                raise task.error  # type: ignore[misc]
            batches.append((node, task.writes or []))
            routes.append((node, task.next or ()))
            nodes.append(node)
        new_values, changed = P.apply_writes(spec, base.values, batches)
        # As LangGraph, an update as a node that ran in the last step redoes that
        # step's routing: the tasks it planned make way for the ones the update routes
        # to. Otherwise the update skips its nodes, and the other pending tasks stay.
        redo = any(n == START or n in base.writers for n in nodes)
        keep = [] if redo else [r for r in base.frontier if r.node not in nodes]
        frontier, barriers = P.next_frontier(spec, base, routes, keep)
    versions = dict(base.versions)
    for key in changed:
        if key in new_values:
            versions[key] = new_id
        else:
            versions.pop(key, None)
    # An update stores changed keys whole; on an older checkpoint (a fork) it
    # also restarts every chained list, so branches never share chunks.
    chains = {k: v for k, v in base.chains.items() if k not in changed}
    return Checkpoint(
        thread_id=thread_id,
        ns=ns,
        id=new_id,
        parent_id=prev.id if prev is not None else None,
        step=step,
        source="update",
        created_at=created_at_of(new_id),
        values=new_values,
        versions=versions,
        frontier=frontier,
        barriers=barriers,
        metadata=_with_parents(metadata, prev),
        writers=tuple(dict.fromkeys(nodes)),
        chains=chains,
    )


def _with_parents(metadata: Mapping[str, Any], prev: Checkpoint | None) -> dict[str, Any]:
    """The update's metadata; a nested graph's keeps where it sits (``parents``)."""
    out = dict(metadata)
    if prev is not None and prev.ns and "parents" in prev.metadata and "parents" not in out:
        out["parents"] = prev.metadata["parents"]
    return out
