"""The ``@task`` calls of one run of a node, journaled in call order.

Each call a run of a node makes (the node being an ``@entrypoint`` or a graph
node) takes the next position of that node's journal
(:func:`~pausegraph.runtime._context.journal_slot`, shared with ``once()`` and
nested graphs). The entry at that position is one of::

    {"task": name, "result": value}     finished: later runs get `value`, the task is not run
    {"task": name, "answers": [...],    not finished: it runs again, with the answers its
     "journal": [...], "waiting": True}   interrupt()s got so far (and its own once() results);
                                        `waiting` marks the call whose interrupt() paused the run

Positions follow call order, not completion order, so a replay after an
interrupt is deterministic however the calls interleaved. A finished result is
saved as soon as the call finishes (not only when the node pauses), so a crash
does not lose it either.

Calls from a sync node run in the shared thread pool; from an async node, as
asyncio tasks. A task called by another task runs as part of it, and its
result is saved with the outer task's.
"""

from __future__ import annotations

import threading
from typing import Any

from pausegraph.errors import GraphInterrupt, InterruptMismatchError
from pausegraph.func._slot import CallSpec, ChildTask, Slot, call_flow
from pausegraph.runtime._context import TaskContext, journal_slot

__all__ = ["Calls", "calls_for", "emit", "loop_running"]


class Calls:
    """The task calls of one run of one node (one :class:`TaskContext`).

    Args:
        ctx: The node's task context: its journal holds the calls' entries.
        is_async: The node is a coroutine: calls run as asyncio tasks.
    """

    def __init__(self, ctx: TaskContext, is_async: bool) -> None:
        self.ctx = ctx
        self.is_async = is_async
        self.slots: list[Slot] = []
        self._keeper = _JournalKeeper(self, ctx.on_journal)
        ctx.on_journal = self._keeper  # also how calls_for() finds these calls again

    def call(self, spec: CallSpec) -> Slot:
        """Start one call (or replay its saved result); returns its slot."""
        ctx = self.ctx
        index, found, saved = journal_slot(ctx)
        entry = _entry_of(saved, spec.name, index) if found else {"task": spec.name}
        slot = Slot(spec.name, call_id(ctx.task.id, index), index, entry)
        if "result" in entry:  # finished on an earlier run: not run again
            slot.finish(entry["result"], None)
            return slot
        with self._keeper.lock:
            slot.journaled = found or index == len(ctx.journal)
            if not found and slot.journaled:
                ctx.journal.append(entry)  # keeps later positions (once(), graphs) aligned
        answer: tuple[Any, Any] | None = None
        nested = False
        if entry.pop("waiting", False) and ctx.has_new_answer:
            ctx.has_new_answer = False  # the resume value answers this call's interrupt()
            answer = (ctx.new_answer, ctx.new_answer_site)
            nested = bool(getattr(ctx.task, "answer_nested", False))
        child = ChildTask(slot.id, spec.name, nested)
        answers = [list(a) for a in entry.get("answers", ())]
        journal = list(entry.get("journal", ()))

        def context() -> TaskContext:
            return TaskContext(
                child,
                answers=[list(a) for a in answers],
                new_answer=answer[0] if answer is not None else None,
                has_new_answer=answer is not None,
                new_answer_site=answer[1] if answer is not None else None,
                journal=journal,
                writer=ctx.writer,
                config=ctx.config,
                on_journal=lambda _task, entries: self._child_journal(slot, entries),
                saver=ctx.saver,
                sink=ctx.sink,
            )

        self.slots.append(slot)
        emit(ctx, "tasks", _start_payload(slot, spec))
        flow = call_flow(spec, context, lambda c, v, e: self._settle(slot, c, v, e, spec.cached))
        slot.start(flow, "async" if self.is_async else "pool")
        return slot

    def _child_journal(self, slot: Slot, entries: list[Any]) -> None:
        slot.entry = {**slot.entry, "journal": list(entries)}
        self._write(slot, persist=True)

    def _settle(
        self,
        slot: Slot,
        child: TaskContext,
        value: Any,
        error: BaseException | None,
        cached: bool = False,
    ) -> None:
        if error is None:
            slot.entry = {"task": slot.name, "result": value}
            try:
                self._write(slot, persist=True)
            except Exception as exc:  # e.g. a result the saver cannot store
                slot.entry = {"task": slot.name}
                self._write(slot, persist=False)
                value, error = None, exc
        if error is not None:
            entry: dict[str, Any] = {"task": slot.name}
            if child.answers:
                entry["answers"] = child.answers
            if child.journal:
                entry["journal"] = list(child.journal)
            slot.entry = entry
            self._write(slot, persist=False)
        elif cached:  # as LangGraph reports a result its cache gave
            emit(self.ctx, "updates", {slot.name: value, "__metadata__": {"cached": True}})
        else:
            emit(self.ctx, "updates", {slot.name: value})
        if not isinstance(error, GraphInterrupt):  # as LangGraph: a paused call reports no result
            emit(self.ctx, "tasks", _result_payload(slot, value, error))
        slot.finish(value, error)

    def _write(self, slot: Slot, *, persist: bool) -> None:
        if not slot.journaled:
            return
        ctx, keeper = self.ctx, self._keeper
        with keeper.lock:
            ctx.journal[slot.index] = slot.entry
            if persist and keeper.save is not None:
                keeper.save(ctx.task, list(ctx.journal))

    # -- the end of the node's run -------------------------------------------------

    def close(self, exc: BaseException | None) -> None:
        """Wait for every call (finished or not awaited), then mark the one that paused the run."""
        for slot in self.slots:
            slot.wait()
        self._mark_waiting(exc)

    async def aclose(self, exc: BaseException | None) -> None:
        """Async :meth:`close`; on cancellation, cancels the calls still running."""
        import asyncio

        running = [s.task for s in self.slots if s.task is not None and not s.task.done()]
        if isinstance(exc, asyncio.CancelledError):
            for task in running:
                task.cancel()
            return
        if running:
            await asyncio.wait(running)
        self._mark_waiting(exc)

    def _mark_waiting(self, exc: BaseException | None) -> None:
        if not isinstance(exc, GraphInterrupt):
            return
        for slot in self.slots:
            if slot.error is exc:
                slot.entry = {**slot.entry, "waiting": True}
                self._write(slot, persist=False)  # the runtime saves the journal as it pauses
                return


def _entry_of(saved: Any, name: str, index: int) -> dict[str, Any]:
    if isinstance(saved, dict) and saved.get("task") == name:
        return dict(saved)
    was = f"task {saved['task']!r}" if isinstance(saved, dict) and "task" in saved else None
    raise InterruptMismatchError(
        f"Call #{index + 1} of this node is task {name!r}, but on the run that saved its "
        f"result it was {was or 'a once() call or a graph invocation'}. A node must make its "
        "task calls (and once() calls and graph invocations) in the same order on every run, "
        "so that each saved result reaches the call that made it.",
        answered_at=was or "once() or a graph",
        called_at=f"task {name!r}",
    )


def call_id(parent_id: str, index: int) -> str:
    """The stable id of call ``index`` of the task ``parent_id`` (uuid-shaped)."""
    from hashlib import blake2b

    h = blake2b(f"{parent_id}|task|{index}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def emit(ctx: TaskContext, mode: str, chunk: Any) -> None:
    """Stream ``chunk`` as ``mode`` if the node's writer can (entrypoint runs only)."""
    send = getattr(ctx.writer, "emit", None)
    if send is not None:
        send(mode, chunk)


def _start_payload(slot: Slot, spec: CallSpec) -> dict[str, Any]:
    return {
        "id": slot.id,
        "name": slot.name,
        "input": (spec.args, spec.kwargs),
        "triggers": ("__pregel_push",),
    }


def _result_payload(slot: Slot, value: Any, error: BaseException | None) -> dict[str, Any]:
    paused = error.interrupts if isinstance(error, GraphInterrupt) else ()
    return {
        "id": slot.id,
        "name": slot.name,
        "error": None if error is None or paused else repr(error),
        "result": {"__return__": value} if error is None else {},
        "interrupts": [
            {"value": i.value, "id": i.id, "response_schema": i.response_schema} for i in paused
        ],
    }


# -- which calls a node's run makes ------------------------------------------------


class _JournalKeeper:
    """Installed as a node's ``ctx.on_journal``: saves its journal, and knows its calls.

    Calls finish in other threads while the node may record ``once()``
    results: every save goes through one lock and writes the journal as it is
    then, so a later save is never an older picture than an earlier one.
    """

    __slots__ = ("calls", "lock", "save")

    def __init__(self, calls: Calls, save: Any) -> None:
        self.calls = calls
        self.save = save
        self.lock = threading.Lock()

    def __call__(self, task: Any, _entries: list[Any]) -> None:
        with self.lock:
            if self.save is not None:
                self.save(task, list(self.calls.ctx.journal))


def calls_for(ctx: TaskContext, is_async: bool | None = None) -> Calls:
    """The calls of the node run ``ctx`` belongs to, made on first use.

    Args:
        is_async: The node is a coroutine (default: whether an event loop runs
            in this thread).
    """
    keeper = ctx.on_journal
    if isinstance(keeper, _JournalKeeper) and keeper.calls.ctx is ctx:
        return keeper.calls
    return Calls(ctx, loop_running() if is_async is None else is_async)


def loop_running() -> bool:
    """Whether an asyncio event loop runs in this thread."""
    import sys

    if "asyncio" not in sys.modules:
        return False
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
