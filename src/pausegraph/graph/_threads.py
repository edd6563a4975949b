"""Reading and changing threads: ``get_state``, history, ``update_state``, the inbox.

A mixin of :class:`~pausegraph.graph.CompiledStateGraph`, kept apart from
running a graph. Configs whose ``checkpoint_ns`` names a subgraph node
(``"node:task_id"``, as ``get_state(..., subgraphs=True)`` reports them) are
answered by that subgraph, on this graph's checkpointer.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pausegraph.errors import InvalidConfigError, InvalidUpdateError, MissingCheckpointerError
from pausegraph.graph._config import address_of, checkpoint_metadata, require_thread
from pausegraph.graph._nested import own_memory
from pausegraph.runtime._drivers import run_effects_sync
from pausegraph.runtime._lease import lease_for
from pausegraph.runtime._update import update_flow
from pausegraph.runtime._views import empty_snapshot, snapshot
from pausegraph.types import StateSnapshot, StateUpdate

if TYPE_CHECKING:
    from pausegraph.checkpoint.base import BaseCheckpointSaver
    from pausegraph.checkpoint.capabilities import WaitingPage
    from pausegraph.graph._spec import GraphSpec

__all__ = ["ThreadStateAPI", "subgraph_of"]


def _checkpoint(stored: Any) -> Any:
    return stored.checkpoint if stored is not None else None


def _ran(cp: Any, later: Any) -> bool:
    """Whether ``later`` is the checkpoint the step after ``cp`` made.

    Results a step's only task wrote are kept once, in that next checkpoint,
    so showing an old checkpoint's task results needs it. History lists newest
    first, so the search ends at the checkpoint itself (at once for the head).
    """
    return bool(later.checkpoint.parent_id == cp.id and later.checkpoint.source == "loop")


def subgraph_of(owner: Any, node: Any) -> Any:
    """The compiled graph ``node`` is, or the one its function calls (``None`` if neither).

    A graph invoked inside a node function keeps its checkpoints under that
    node's namespace; LangGraph finds it among the names the function's code
    refers to (its closure and globals), so ``get_state(subgraphs=True)`` and
    a config naming that namespace reach it. The same lookup here.
    """
    if node.subgraph is not None:
        return node.subgraph
    fn = node.fn
    while isinstance(fn, functools.partial):
        fn = fn.func
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    referred: list[Any] = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            referred.append(cell.cell_contents)
        except ValueError:  # a cell not yet assigned
            continue
    names = getattr(fn, "__globals__", {})
    referred.extend(names[n] for n in code.co_names if n in names)
    return next((g for g in referred if isinstance(g, ThreadStateAPI) and g is not owner), None)


class ThreadStateAPI:
    """State reads and writes of a compiled graph's threads."""

    spec: GraphSpec
    checkpointer: BaseCheckpointSaver | None
    name: str

    # -- state -----------------------------------------------------------------

    def get_state(self, config: Mapping[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's current state (or the checkpoint ``config`` names).

        Returns:
            A :class:`StateSnapshot`; for a thread with no checkpoint, an empty one.

        Raises:
            InvalidConfigError: No checkpointer, or no thread_id in ``config``.
        """
        address = address_of(config)
        thread_id, saver = require_thread(address, self.checkpointer, "get_state()")
        graph = self._graph_for(address.ns)
        stored = saver.load(thread_id, address.ns, address.checkpoint_id)
        if stored is None:
            return empty_snapshot(config)
        child = None
        if address.checkpoint_id is not None:  # an old checkpoint: its step's results
            for later in saver.history(thread_id, address.ns):
                if _ran(stored.checkpoint, later):
                    child = later
                if child is not None or later.checkpoint.id == address.checkpoint_id:
                    break
        state = snapshot(
            graph.spec,
            stored.checkpoint,
            stored.writes,
            live=address.checkpoint_id is None,
            child=_checkpoint(child),
        )
        return graph._with_subgraph_states(state, saver, subgraphs)

    def _graph_for(self, ns: str) -> ThreadStateAPI:
        """The graph whose checkpoints live under namespace ``ns`` (this one for ``""``).

        Raises:
            InvalidConfigError: ``ns`` names no subgraph node of this graph.
        """
        graph: ThreadStateAPI = self
        for part in ns.split("|") if ns else ():
            node = graph.spec.nodes.get(part.split(":", 1)[0])
            sub = subgraph_of(graph, node) if node is not None else None
            if sub is None:
                raise InvalidConfigError(
                    f"checkpoint_ns {ns!r} names no subgraph node of graph {self.name!r}. Use "
                    "the checkpoint_ns that get_state(config, subgraphs=True) reports in "
                    "its tasks' state."
                )
            graph = sub
        return graph

    def _with_subgraph_states(
        self, state: StateSnapshot, saver: BaseCheckpointSaver, recurse: bool
    ) -> StateSnapshot:
        """Fill ``PregelTask.state`` of subgraph nodes: a snapshot, or the config to ask for one."""
        conf = state.config["configurable"]
        parent_ns = conf.get("checkpoint_ns") or ""
        tasks = []
        changed = False
        for task in state.tasks:
            node = self.spec.nodes.get(task.name)
            subgraph = subgraph_of(self, node) if node is not None else None
            if subgraph is None:
                tasks.append(task)
                continue
            part = task.name if own_memory(subgraph) else f"{task.name}:{task.id}"
            ns = f"{parent_ns}|{part}" if parent_ns else part
            sub_config = {"configurable": {"thread_id": conf["thread_id"], "checkpoint_ns": ns}}
            sub_state: Any = sub_config
            if recurse:
                stored = saver.load(conf["thread_id"], ns)
                sub_state = None
                if stored is not None:
                    sub: ThreadStateAPI = subgraph
                    sub_state = sub._with_subgraph_states(
                        snapshot(sub.spec, stored.checkpoint, stored.writes, live=True),
                        saver,
                        True,
                    )
            tasks.append(task._replace(state=sub_state))
            changed = True
        return state._replace(tasks=tuple(tasks)) if changed else state

    async def aget_state(
        self, config: Mapping[str, Any], *, subgraphs: bool = False
    ) -> StateSnapshot:
        """Async :meth:`get_state`."""
        address = address_of(config)
        thread_id, saver = require_thread(address, self.checkpointer, "aget_state()")
        graph = self._graph_for(address.ns)
        stored = await saver.aload(thread_id, address.ns, address.checkpoint_id)
        if stored is None:
            return empty_snapshot(config)
        child = None
        if address.checkpoint_id is not None:  # an old checkpoint: its step's results
            async for later in saver.ahistory(thread_id, address.ns):
                if _ran(stored.checkpoint, later):
                    child = later
                if child is not None or later.checkpoint.id == address.checkpoint_id:
                    break  # newest first: nothing older than the checkpoint follows it
        state = snapshot(
            graph.spec,
            stored.checkpoint,
            stored.writes,
            live=address.checkpoint_id is None,
            child=_checkpoint(child),
        )
        return graph._with_subgraph_states(state, saver, subgraphs)

    def _history_args(
        self, config: Mapping[str, Any], before: Mapping[str, Any] | None, what: str
    ) -> tuple[BaseCheckpointSaver, str, str, str | None, str | None]:
        address = address_of(config)
        thread_id, saver = require_thread(address, self.checkpointer, what)
        before_id = address_of(before).checkpoint_id if before is not None else None
        # As LangGraph: a checkpoint_id in the config lists that checkpoint alone.
        return saver, thread_id, address.ns, before_id, address.checkpoint_id

    def get_state_history(
        self,
        config: Mapping[str, Any],
        *,
        filter: Mapping[str, Any] | None = None,
        before: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints as snapshots, newest first.

        Args:
            filter: Only checkpoints whose metadata has these pairs, e.g. ``{"source": "loop"}``.
            before: Only checkpoints older than the one this config names.
            limit: At most this many.

        A ``checkpoint_id`` in ``config`` lists only that checkpoint, as in LangGraph.
        """
        saver, thread_id, ns, before_id, only = self._history_args(
            config, before, "get_state_history()"
        )
        spec = self._graph_for(ns).spec
        child = saver.load(thread_id, ns, before_id) if before_id is not None else None
        if only is not None:
            before_id, limit = None, None if limit is None or limit > 0 else 0
        for stored in saver.history(thread_id, ns, before=before_id, limit=limit, filter=filter):
            cp = stored.checkpoint
            if only is None or cp.id == only:
                yield snapshot(spec, cp, stored.writes, live=False, child=_checkpoint(child))
                if only is not None:
                    return
            child = stored

    async def aget_state_history(
        self,
        config: Mapping[str, Any],
        *,
        filter: Mapping[str, Any] | None = None,
        before: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        """Async :meth:`get_state_history`."""
        saver, thread_id, ns, before_id, only = self._history_args(
            config, before, "aget_state_history()"
        )
        spec = self._graph_for(ns).spec
        child = await saver.aload(thread_id, ns, before_id) if before_id is not None else None
        if only is not None:
            before_id, limit = None, None if limit is None or limit > 0 else 0
        async for stored in saver.ahistory(
            thread_id, ns, before=before_id, limit=limit, filter=filter
        ):
            cp = stored.checkpoint
            if only is None or cp.id == only:
                yield snapshot(spec, cp, stored.writes, live=False, child=_checkpoint(child))
                if only is not None:
                    return
            child = stored

    def _update_args(self, values: Any, as_node: str | None) -> tuple[Any, str | None]:
        """What an update applies: ``(values, as_node)`` as given (the functional API maps it)."""
        return values, as_node

    def _update_flow(
        self, config: Mapping[str, Any], supersteps: Sequence[Sequence[Any]], what: str
    ) -> tuple[Any, Any]:
        """The updates' effect program, and the lease it must run under."""
        address = address_of(config)
        thread_id, _ = require_thread(address, self.checkpointer, what)
        steps = [[self._update_args(*u) for u in updates] for updates in _supersteps(supersteps)]
        lease = lease_for(self.checkpointer, thread_id, nested=False)
        return lease, update_flow(
            self._graph_for(address.ns).spec,
            thread_id=thread_id,
            ns=address.ns,
            checkpoint_id=address.checkpoint_id,
            supersteps=steps,
            metadata=checkpoint_metadata(config),
            config=dict(config),
            what=what,
        )

    def update_state(
        self,
        config: Mapping[str, Any],
        values: dict[str, Any] | Any | None,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Change the thread's state as if ``as_node`` had returned ``values``.

        The next nodes follow from ``as_node``'s edges. Without ``as_node`` the
        node that last wrote is used. ``as_node=END`` with ``values=None``
        drops the pending tasks; ``as_node="__copy__"`` with ``values=None``
        copies the checkpoint as it is (a fork). Pending interrupts are discarded.

        Returns:
            The config of the new checkpoint.

        Raises:
            InvalidUpdateError: ``as_node`` names no node, or the values do not fit.
            InvalidConfigError: No checkpointer or no thread_id.
        """
        return self._apply(config, [[(values, as_node)]], "update_state()")

    def bulk_update_state(
        self, config: Mapping[str, Any], supersteps: Sequence[Sequence[Any]]
    ) -> dict[str, Any]:
        """Apply several updates at once: one new checkpoint per superstep.

        Args:
            config: The thread (and optionally the checkpoint) to start from.
            supersteps: A list of supersteps, each a list of
                :class:`~pausegraph.types.StateUpdate` (or ``(values, as_node)``
                tuples). A superstep's updates apply together, as if those
                nodes had run in one step: keys with a reducer fold them all,
                a key without one takes one value.

        Every checkpoint is worked out before the first is stored: an update
        that does not fit raises and leaves the thread unchanged.

        Returns:
            The config of the last new checkpoint.

        Raises:
            InvalidUpdateError: No supersteps, an empty one, an unknown node, a
                missing ``as_node`` among several updates, or values that do not fit.
            InvalidConfigError: No checkpointer or no thread_id.
        """
        return self._apply(config, supersteps, "bulk_update_state()")

    def _apply(
        self, config: Mapping[str, Any], supersteps: Sequence[Sequence[Any]], what: str
    ) -> dict[str, Any]:
        lease, flow = self._update_flow(config, supersteps, what)
        if lease is not None:
            lease.acquire()
        try:
            new_config: dict[str, Any] = run_effects_sync(self.checkpointer, flow)
        finally:
            if lease is not None:
                lease.release()
        return new_config

    async def aupdate_state(
        self,
        config: Mapping[str, Any],
        values: dict[str, Any] | Any | None,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Async :meth:`update_state`."""
        return await self._aapply(config, [[(values, as_node)]], "aupdate_state()")

    async def abulk_update_state(
        self, config: Mapping[str, Any], supersteps: Sequence[Sequence[Any]]
    ) -> dict[str, Any]:
        """Async :meth:`bulk_update_state`."""
        return await self._aapply(config, supersteps, "abulk_update_state()")

    async def _aapply(
        self, config: Mapping[str, Any], supersteps: Sequence[Sequence[Any]], what: str
    ) -> dict[str, Any]:
        from pausegraph.runtime._drivers_async import run_effects_async

        lease, flow = self._update_flow(config, supersteps, what)
        if lease is not None:
            await lease.aacquire()
        try:
            new_config: dict[str, Any] = await run_effects_async(self.checkpointer, flow)
        finally:
            if lease is not None:
                await lease.arelease()
        return new_config

    # -- the inbox -----------------------------------------------------------------

    def _waiting_index(self) -> Any:
        from pausegraph.checkpoint.capabilities import WaitingIndex

        saver = self.checkpointer
        if saver is None:
            raise MissingCheckpointerError(
                "list_waiting() reads the checkpointer's index of paused threads: compile with "
                "a checkpointer."
            )
        if not isinstance(saver, WaitingIndex):
            raise InvalidConfigError(
                f"{type(saver).__name__} keeps no index of waiting threads; use one of "
                "pausegraph's savers (memory, SQLite, Postgres, Redis)."
            )
        return saver

    def list_waiting(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
        all_graphs: bool = False,
    ) -> WaitingPage:
        """Threads of this graph that wait for a person, oldest pause first.

        Answered from the saver's index, not by reading histories. Each entry
        has the thread id, the checkpoint, the pending interrupts (id, value,
        node) and when it paused.

        Args:
            metadata: Only threads whose run metadata has these pairs.
            limit: Page size; pass the page's ``next_cursor`` as ``after``.
            all_graphs: List threads of every graph in the store, not just this one.

        Raises:
            MissingCheckpointerError: The graph has no checkpointer.
        """
        return self._waiting_index().list_waiting(  # type: ignore[no-any-return]
            graph=None if all_graphs else self.name, metadata=metadata, limit=limit, after=after
        )

    async def alist_waiting(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 100,
        after: str | None = None,
        all_graphs: bool = False,
    ) -> WaitingPage:
        """Async :meth:`list_waiting`."""
        return await self._waiting_index().alist_waiting(  # type: ignore[no-any-return]
            graph=None if all_graphs else self.name, metadata=metadata, limit=limit, after=after
        )


def _supersteps(supersteps: Any) -> list[list[tuple[Any, str | None]]]:
    """``bulk_update_state``'s argument as lists of ``(values, as_node)``, or a clear error."""
    if isinstance(supersteps, str | bytes | Mapping) or not isinstance(supersteps, Sequence):
        raise InvalidUpdateError(
            f"supersteps must be a list of supersteps, each a list of StateUpdate(values, "
            f"as_node); got {type(supersteps).__name__}."
        )
    out = []
    for i, updates in enumerate(supersteps, 1):
        if isinstance(updates, StateUpdate) or not isinstance(updates, list | tuple):
            raise InvalidUpdateError(
                f"Superstep {i} is a {type(updates).__name__}, not a list of updates: pass "
                "[[StateUpdate(values, as_node), ...], ...] (one inner list per superstep)."
            )
        step = []
        for j, update in enumerate(updates, 1):
            if not isinstance(update, tuple | list) or not 1 <= len(update) <= 3:
                raise InvalidUpdateError(
                    f"Update {j} of superstep {i} must be StateUpdate(values, as_node) or a "
                    f"(values, as_node) tuple; got {type(update).__name__}."
                )
            values = update[0]
            as_node = update[1] if len(update) > 1 else None
            step.append((values, as_node))
        out.append(step)
    return out
