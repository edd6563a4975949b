"""``update_state``: apply values as if a node had returned them, as a new checkpoint."""

from __future__ import annotations

from collections.abc import Generator, Mapping
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


__all__ = ["update_flow"]


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


def update_flow(
    spec: GraphSpec,
    *,
    thread_id: str,
    ns: str,
    checkpoint_id: str | None,
    values: Any,
    as_node: str | None,
    metadata: Mapping[str, Any],
    config: dict[str, Any],
) -> Generator[Any, Any, dict[str, Any]]:
    """Yields load/save effects and router calls; returns the new checkpoint's config.

    Raises:
        InvalidUpdateError: ``as_node`` names no node, the update does not fit
            the state, or ``as_node`` is needed and missing.
        CheckpointNotFoundError: ``checkpoint_id`` does not exist.
    """
    if as_node is not None and as_node not in spec.nodes and as_node not in (START, END):
        raise InvalidUpdateError(
            f"Node {as_node!r} does not exist, so update_state cannot apply values as it. "
            f"Use one of: {', '.join(repr(n) for n in spec.nodes)} (or END with values=None to "
            "drop the pending tasks)."
        )
    if as_node == END and values is not None:
        raise InvalidUpdateError(
            "update_state(..., as_node=END) only takes values=None (it drops the pending tasks). "
            "To change values, pass them with as_node set to a node, or without as_node."
        )
    stored: StoredCheckpoint | None = yield (LOAD, thread_id, ns, checkpoint_id)
    if stored is None and checkpoint_id is not None:
        raise CheckpointNotFoundError(
            f"Thread {thread_id!r} has no checkpoint {checkpoint_id!r}; take ids from "
            "get_state_history(config)."
        )
    prev = stored.checkpoint if stored is not None else None
    if as_node is None:
        as_node = _infer_as_node(spec, prev)
    new_id = new_checkpoint_id()
    if prev is None:
        base_values = P.initial_values(spec)
        base_versions = dict.fromkeys(base_values, new_id)
        prev_step = -1
        base = Checkpoint(thread_id, ns, new_id, None, -1, "input", "", base_values, base_versions)
    else:
        base = prev
        prev_step = prev.step

    if as_node == END:
        frontier: tuple[Any, ...] = ()
        barriers = dict(base.barriers)
        new_values, changed = dict(base.values), list[str]()
    else:
        task = Task(
            new_id,
            ns,
            "update",
            as_node,
            (P.PULL, as_node),
            TaskRef(as_node, False, values),
            prev_step + 1,
        )
        output = values
        who = f"update_state(as_node={as_node!r})"
        yield from finish_flow(spec, task, base.values, output, config=config, writer=None, who=who)
        if task.error is not None:
            raise task.error  # type: ignore[misc]
        new_values, changed = P.apply_writes(spec, base.values, [(as_node, task.writes or [])])
        # As LangGraph, an update as a node that ran in the last step redoes that
        # step's routing: the tasks it planned make way for the ones the update routes
        # to. Otherwise the update skips as_node, and the other pending tasks stay.
        redo = as_node == START or as_node in base.writers
        keep = [] if redo else [r for r in base.frontier if r.node != as_node]
        frontier, barriers = P.next_frontier(spec, base, [(as_node, task.next or ())], keep)
    versions = dict(base.versions)
    for key in changed:
        if key in new_values:
            versions[key] = new_id
        else:
            versions.pop(key, None)
    # An update stores changed keys whole; on an older checkpoint (a fork) it
    # also restarts every chained list, so branches never share chunks.
    chains = {k: v for k, v in base.chains.items() if k not in changed}
    cp = Checkpoint(
        thread_id=thread_id,
        ns=ns,
        id=new_id,
        parent_id=prev.id if prev is not None else None,
        step=prev_step + 1,
        source="update",
        created_at=created_at_of(new_id),
        values=new_values,
        versions=versions,
        frontier=frontier,
        barriers=barriers,
        metadata=_with_parents(metadata, prev),
        writers=(as_node,),
        chains=chains,
    )
    if checkpoint_id is not None:
        cp = materialized(cp)
    yield (SAVE, cp, (), True)
    return checkpoint_config(cp)


def _with_parents(metadata: Mapping[str, Any], prev: Checkpoint | None) -> dict[str, Any]:
    """The update's metadata; a nested graph's keeps where it sits (``parents``)."""
    out = dict(metadata)
    if prev is not None and prev.ns and "parents" in prev.metadata and "parents" not in out:
        out["parents"] = prev.metadata["parents"]
    return out
