"""Graphs invoked from inside a running node.

A compiled graph called as a function in a node (``subgraph.invoke(...)``), or
added as a node, runs as a *nested* run: in the parent's thread, under its own
checkpoint namespace (``node:task_id``), with the parent's checkpointer unless
it was compiled with its own. When it pauses, the parent node pauses too; when
the parent is resumed, the answer is passed down and the nested run continues
where it stopped instead of starting over. Its finished result is journaled
with the parent task, so re-running the parent node does not run it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.errors import GraphInterrupt
from pausegraph.runtime._context import TaskContext, current_task, journal_record, journal_slot
from pausegraph.runtime._loop import RunLoop
from pausegraph.runtime._options import NO_ANSWER

if TYPE_CHECKING:
    from pausegraph.graph._compiled import CompiledStateGraph

__all__ = ["NestedCall", "Sink", "nested_parent", "own_memory"]


class Sink:
    """Where nested runs send their stream chunks when the caller asked for ``subgraphs=True``.

    Chunks land in the top-level run's output as ``("__sub__", (namespace,
    mode, chunk))``; ``namespace`` is the tuple of ``node:task_id`` parts.
    """

    __slots__ = ("modes", "out", "path", "seen")

    def __init__(
        self,
        out: Any,
        modes: frozenset[str],
        path: tuple[str, ...] = (),
        seen: set[str] | None = None,
    ) -> None:
        self.out = out
        self.modes = modes
        self.path = path
        # Ids of the messages streamed so far, at any depth: each comes once.
        self.seen: set[str] = set() if seen is None else seen

    def child(self, part: str) -> Sink:
        """The sink of a run nested one level deeper, under ``part``."""
        return Sink(self.out, self.modes, (*self.path, part), self.seen)

    def emit(self, mode: str, chunk: Any) -> None:
        """Forward one chunk of the run this sink belongs to."""
        self.out.append(("__sub__", (self.path, mode, chunk)))


def nested_parent(config: Mapping[str, Any] | None) -> TaskContext | None:
    """The running task this call is nested in, or ``None`` for a top-level run.

    A config naming its own ``thread_id`` makes an independent run even inside a node.
    """
    ctx = current_task.get()
    if ctx is None:
        return None
    conf = (config or {}).get("configurable") or {}
    if "thread_id" in conf:
        return None
    return ctx


def _answers_nested(ctx: TaskContext) -> bool:
    return bool(getattr(ctx.task, "answer_nested", False))


def own_memory(graph: Any) -> bool:
    """Whether ``graph`` was compiled with ``checkpointer=True`` (state kept per thread)."""
    return graph.persistence is True and graph.checkpointer is None


_OWN_KEYS = frozenset(
    {"thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map", "idempotency_key"}
)
"""Keys of the parent's ``configurable`` that say where the parent runs: not inherited."""


def _inherited(parent: Mapping[str, Any], config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The nested run's config: the parent's (as LangGraph: its configurable keys,
    metadata, tags...), without where the parent runs, under the call's own."""
    out = {k: v for k, v in parent.items() if k not in ("configurable", "callbacks")}
    conf = {k: v for k, v in (parent.get("configurable") or {}).items() if k not in _OWN_KEYS}
    own = dict(config or {})
    conf.update(own.pop("configurable", None) or {})
    if "metadata" in own and "metadata" in out:
        own["metadata"] = {**out["metadata"], **own["metadata"]}
    out.update(own)
    out["configurable"] = conf
    return out


class NestedCall:
    """One nested invocation: where it lives and what the parent already knows of it."""

    def __init__(
        self, graph: CompiledStateGraph, ctx: TaskContext, config: Mapping[str, Any] | None
    ) -> None:
        self.ctx = ctx
        self.index, self.done, self.result = journal_slot(ctx)
        parent = ctx.config.get("configurable") or {}
        parent_ns = parent.get("checkpoint_ns") or ""
        # checkpointer=True: the graph keeps its state across the parent's runs, as in
        # LangGraph, under the node's name alone; otherwise each task runs it afresh.
        task_part = ctx.task.name if own_memory(graph) else f"{ctx.task.name}:{ctx.task.id}"
        part = task_part + (f":{self.index}" if self.index else "")
        ns = f"{parent_ns}|{part}" if parent_ns else part
        self.sink: Sink | None = ctx.sink.child(part) if ctx.sink is not None else None
        self.saver = (
            graph.checkpointer
            if graph.checkpointer is not None
            else (None if graph.persistence is False else ctx.saver)
        )
        thread_id = parent.get("thread_id") if self.saver is not None else None
        self.config = _inherited(ctx.config, config)
        conf = dict(self.config.get("configurable") or {})
        # The checkpoints of the graphs this run sits in (LangGraph's metadata "parents").
        self.parents: dict[str, str] = {}
        if thread_id is not None:
            self.parents = {**(parent.get("checkpoint_map") or {}), parent_ns: ctx.task._cp}
            conf.update(thread_id=thread_id, checkpoint_ns=ns, checkpoint_map=self.parents)
        self.config["configurable"] = conf
        for key in ("recursion_limit",):
            if key in ctx.config and key not in self.config:
                self.config[key] = ctx.config[key]
        # The parent's answer is for this run if the parent paused inside a nested
        # run, or was given one for no interrupt in particular (nothing was
        # pending, e.g. after update_state): then the first interrupt() it reaches
        # gets it. Not if this run has finished already.
        carried = ctx.new_answer_site is None
        if ctx.has_new_answer and not self.done and (_answers_nested(ctx) or carried):
            ctx.has_new_answer = False
            self.answer: Any = ctx.new_answer
        else:
            self.answer = NO_ANSWER

    def finish(self, loop: RunLoop, result: Any) -> Any:
        """Pause the parent if the nested run paused; otherwise journal and return ``result``.

        A nested run that stopped at one of its static breakpoints stops the
        parent too, with no interrupt (no records): resuming the parent with
        ``None`` runs the node again, and the nested run goes on past it.
        """
        if loop.interrupts or loop.stopped_at_breakpoint:
            exc = GraphInterrupt(tuple(loop.interrupts))
            exc.records = list(loop.interrupt_records)  # type: ignore[attr-defined]
            raise exc
        journal_record(self.ctx, self.index, result)
        return result
