"""The run loop, written once for both drivers.

:meth:`RunLoop.run` is a generator: it decides everything and yields the I/O
it needs as effects (load, save, save writes, run tasks). The sync driver
performs each effect by calling the saver and the nodes; the async driver
awaits them. Stream chunks collect in :attr:`RunLoop.out` for the driver to
hand to the caller (the ``tasks``/``checkpoints``/``debug`` payloads are
built in ``_events``). What the run was asked to do comes in as
:class:`~._options.RunOptions`.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Generator, Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

from pausegraph.channels import LastValue
from pausegraph.checkpoint._records import (
    EMPTY,
    Checkpoint,
    PendingWrite,
    StoredCheckpoint,
    TaskRef,
    created_at_of,
    new_checkpoint_id,
    pending_write,
)
from pausegraph.constants import INTERRUPT, START
from pausegraph.errors import (
    CheckpointNotFoundError,
    EmptyInputError,
    GraphRecursionError,
    MissingCheckpointerError,
    NothingToResumeError,
)
from pausegraph.runtime import _planner as P
from pausegraph.runtime._events import now_iso
from pausegraph.runtime._options import NO_ANSWER, RunOptions
from pausegraph.runtime._planner import Task
from pausegraph.runtime._prestep import PreStep
from pausegraph.runtime._reports import LIFECYCLE, RunReports
from pausegraph.runtime._resume import prepare_resume
from pausegraph.runtime._tasks import input_writes as input_writes_of
from pausegraph.runtime._views import (
    checkpoint_config,
    input_writes,
    interrupt_of,
    live_values,
    output_values,
    resumed_checkpoint,
    select_output,
    state_values,
)
from pausegraph.types import Command, Interrupt

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec
    from pausegraph.runtime._live import LiveChunks


__all__ = ["LIFECYCLE", "LOAD", "RUN", "SAVE", "WRITES", "RunLoop"]

LOAD, SAVE, WRITES, RUN = "load", "save", "writes", "run"

# The effects, as the drivers perform them:
#   (LOAD, thread_id, ns, checkpoint_id)                 -> the StoredCheckpoint or None
#   (SAVE, checkpoint, parent_writes, final)             saver.save(...)
#   (WRITES, thread_id, ns, checkpoint_id, writes, final) saver.save_writes(...)
#   (RUN, tasks, step_values)                            the driver runs the tasks
# ``final`` marks the run's last write: nothing is stored after it, so a saver
# may flush with it (BaseCheckpointSaver.save) and give the thread's lease back
# in the same round trip. A run may also end without one (a fork, a breakpoint
# in the first step); the driver then releases the lease on its own.


Effect = tuple[Any, ...]


class RunLoop(RunReports, PreStep):
    """One invocation of a graph, from input to a stop (done, paused or failed).

    After :meth:`run` finishes: :attr:`values` holds the final values,
    :attr:`interrupts` the interrupts raised (in the order raised), and
    :attr:`stopped_at_breakpoint` tells a static breakpoint stopped the run.
    """

    # Defaults every run shares until it sets its own: fewer stores per run.
    stopped_at_breakpoint = False
    # A nested run whose namespace is its parent's task (node:task_id), so it starts
    # afresh with each parent task; not one compiled with checkpointer=True.
    per_task = False
    checkpoint: Checkpoint | None = None
    sink: Any = None  # set by stream(subgraphs=True): where nested runs stream
    # Set by stream(output_keys=...): the keys its values and updates chunks show.
    output_keys: str | tuple[str, ...] | None = None
    # Chunks reported as they happen (see _live), made by the first who needs it.
    live: LiveChunks | None = None
    _counter = 0
    _last_saved: str | None = None
    _parallel = False
    _step_values: Mapping[str, Any] = MappingProxyType({})
    _resume_writes: tuple[PendingWrite, ...] = ()
    # What the resumed step's tasks had asked (task id -> interrupt records): a task
    # that finishes clears its own, but history keeps them, as LangGraph's does.
    _asked: dict[str, list[dict[str, Any]]] = {}  # noqa: RUF012 (never mutated)
    _seen_messages: set[str] | None = None  # streamed (when no sink shares one)

    def __init__(self, spec: GraphSpec, saver: Any, inp: Any, opts: RunOptions) -> None:
        self.spec = spec
        self.saver = saver if opts.thread_id is not None else None
        self.input = inp
        self.opts = opts
        self.out: deque[tuple[str, Any]] = deque()
        self.values: dict[str, Any] = {}
        self.interrupts: list[Interrupt] = []
        self.interrupt_records: list[dict[str, Any]] = []
        self._extra: list[tuple[str, Any]] = []
        self._unsaved: set[str] = set()  # under durability="exit": ids not yet stored
        self._paused = False  # a task of the running step paused
        self._cached: list[Task] = []  # finished tasks of the step a resume starts with
        modes = opts.modes
        # Set on the instance even when off: read on every step, and on 3.11 an
        # attribute found on the class is a slow (unspecialized) lookup.
        if modes:
            self._values_mode = "values" in modes
            self._updates_mode = "updates" in modes
            self._messages_mode = "messages" in modes
            self._debug_mode = "debug" in modes
            # LIFECYCLE: astream_events' own mode, the tasks stream with the task objects.
            self._lifecycle_mode = LIFECYCLE in modes
            self._tasks_mode = "tasks" in modes or self._debug_mode or self._lifecycle_mode
            # Checkpoint events describe saved checkpoints: none without a saver.
            self._checkpoints_mode = self.saver is not None and (
                "checkpoints" in modes or self._debug_mode
            )
        else:  # ainvoke and invoke stream nothing
            self._values_mode = self._updates_mode = self._messages_mode = False
            self._debug_mode = self._tasks_mode = self._checkpoints_mode = False
            self._lifecycle_mode = False
        # Checkpoint ids are time-ordered when stored (or reported), else a counter.
        self._real_ids = self.saver is not None or self._checkpoints_mode

    # -- effects helpers -----------------------------------------------------

    def _save(
        self, cp: Checkpoint, finished: Sequence[Task] = (), *, final: bool = True
    ) -> Effect | None:
        """The effect saving ``cp``, with the writes of the ``finished`` tasks of its parent's step.

        The writes go in the same atomic save, against the parent, so history
        shows what each task returned (and a crash cannot split the two).
        ``None`` when nothing is stored now; else the caller yields the effect,
        then sets ``_last_saved`` (a plain call, not a generator: runs once a step).
        """
        self.checkpoint = cp
        if self._checkpoints_mode:
            self._emit_checkpoint(cp)
        resume = self._resume_writes
        if resume:  # the step a resume started is done: they must not reach a later pause
            self._resume_writes = ()
        if self.saver is None:
            return None
        if self.opts.durability == "exit":
            self._unsaved.add(cp.id)
            return None
        if resume:
            return (SAVE, cp, _with_resume(finished, resume), final)
        if len(finished) == 1:
            writes = self._finished_writes(finished[0], cp)
        elif finished:
            writes = tuple(w for t in finished if not t.saved for w in _task_writes(t))
        else:  # the input checkpoint
            writes = ()
        return (SAVE, cp, writes, final)

    def _flush_exit(self, *, final: bool = True) -> Generator[Effect, Any, None]:
        """Under ``durability="exit"``, write the newest checkpoint, self-contained."""
        cp = self.checkpoint
        if self.saver is None or cp is None or cp.id not in self._unsaved:
            return
        unsaved = self._unsaved
        versions = {k: (cp.id if v in unsaved else v) for k, v in cp.versions.items()}
        # Chunks appended by checkpoints that were never saved are missing: store
        # chained keys whole.
        cp = materialized(cp._replace(versions=versions, parent_id=self._last_saved))
        self.checkpoint = cp
        yield (SAVE, cp, (), final)
        self._unsaved.clear()
        self._last_saved = cp.id

    # -- the loop ------------------------------------------------------------

    def run(self) -> Generator[Effect, Any, None]:
        """Drive the run; yields effects, receives their results."""
        spec, opts = self.spec, self.opts
        stored: StoredCheckpoint | None = None
        if self.saver is not None:
            stored = yield (LOAD, opts.thread_id, opts.ns, opts.checkpoint_id)
            if stored is None and opts.checkpoint_id is not None:
                raise CheckpointNotFoundError(
                    f"Thread {opts.thread_id!r} has no checkpoint {opts.checkpoint_id!r}. "
                    "Take ids from get_state_history(), or drop checkpoint_id to use the latest."
                )
            if (
                stored is not None
                and opts.checkpoint_id is not None
                and not _is_new_input(self.input)
            ):
                head = yield (LOAD, opts.thread_id, opts.ns, None)
                if head is not None and head.checkpoint.id != stored.checkpoint.id:
                    stored = yield from self._fork(stored)

        inp = self.input
        if opts.nested_answer is not None and stored is not None:
            if stored.checkpoint.frontier:
                # A graph invoked inside a node that paused earlier: continue it, with
                # the answer the parent was resumed with, instead of starting over.
                has_answer = opts.nested_answer is not NO_ANSWER
                inp = Command(resume=opts.nested_answer) if has_answer else None
            elif stored.checkpoint.source == "update" and self.per_task:
                # Its pause was settled by update_state on its own config (as_node
                # past the paused node): it has nothing left to run, as in LangGraph.
                inp = None
        elif stored is None and opts.nested_answer is not None:
            # Starting afresh (its parent's task changed, e.g. by update_state) with an
            # answer for it: the first interrupt() it reaches gets it, as in LangGraph.
            self.carry(opts.nested_answer)
        resuming = True
        if isinstance(inp, Command):
            if self.saver is None:
                raise MissingCheckpointerError(
                    "Command(...) resumes a saved run, so the graph needs a checkpointer: compile "
                    "with checkpointer=InMemorySaver() (or another saver) and pass "
                    "config={'configurable': {'thread_id': ...}}."
                )
            if stored is None:
                raise NothingToResumeError(
                    f"Thread {opts.thread_id!r} has no checkpoint, so there is nothing to resume. "
                    "Start it with an input dict first."
                )
            cp, tasks, extra, writes = prepare_resume(spec, stored, inp)
            self._check_storable(tasks, writes)
            # Kept only if the run pauses again; a completed step folds them into
            # its checkpoint, and a refused or failed resume leaves no trace.
            self._resume_writes = writes
            self._asked = {t.id: t.interrupts for t in tasks if t.interrupts}
        elif inp is None:
            if stored is None:
                raise EmptyInputError(
                    "Received no input for __start__: the thread has no checkpoint to resume. "
                    "Pass an input dict to start a run"
                    + (
                        "."
                        if self.saver is not None
                        else ", or compile with a checkpointer and pass a thread_id to resume one."
                    )
                )
            cp = stored.checkpoint
            tasks = P.plan(cp, stored.writes)
            extra = input_writes(stored.writes)
        else:
            resuming = False
            input_writes_of(spec, inp)  # refuse bad input before anything is saved
            prev = stored.checkpoint if stored is not None else None
            cp = self._input_checkpoint(prev, inp)
            if opts.checkpoint_id is not None:  # new input on an older checkpoint: a branch
                cp = materialized(cp)
            tasks = P.plan(cp)
            # Mid-run unless the input leaves nothing to run.
            save = self._save(cp, final=not tasks)
            if save is not None:
                yield save
                self._last_saved = cp.id
            extra = []
        self.checkpoint = cp
        self._extra = extra
        if resuming:
            self._resumed(cp, tasks, extra)
        # Here rather than in a generator of its own: each effect of the steps
        # passes through every generator frame between them and the driver.
        try:
            yield from self._steps(cp, tasks, extra, skip_before=resuming)
        except GeneratorExit:
            raise
        except BaseException:
            if self._unsaved:
                yield from self._flush_exit()
            raise
        if self._unsaved:  # durability="exit" left checkpoints to write
            yield from self._flush_exit()

    def _steps(
        self, cp: Checkpoint, tasks: list[Task], extra: list[tuple[str, Any]], *, skip_before: bool
    ) -> Generator[Effect, Any, None]:
        spec, opts = self.spec, self.opts
        stop = cp.step + 1 + opts.recursion_limit
        after = opts.interrupt_after
        while True:
            if cp.step + 1 > stop:
                raise GraphRecursionError(
                    f"Recursion limit of {opts.recursion_limit} reached without hitting a stop "
                    "condition. You can increase the limit by setting the `recursion_limit` "
                    "config key, e.g. graph.invoke(inp, {'recursion_limit': 100, ...}); if the "
                    "graph loops forever, check the condition that should end the loop."
                )
            if not tasks:
                self.values = output_values(spec, cp.values)
                return
            if len(tasks) == 1:  # most steps: skip the comprehensions below
                pending = tasks if tasks[0].writes is None else []
            else:
                pending = [t for t in tasks if t.writes is None]
            if not skip_before and self.opts.interrupt_before and self._stops_before(tasks):
                self._breakpoint(cp, tasks, extra)
                return
            skip_before = False
            step_values = (
                P.apply_writes(spec, cp.values, [("__input__", extra)])[0] if extra else cp.values
            )
            self._step_values = step_values
            runnable = (
                pending
                if len(pending) == 1 and not pending[0].hold
                else [t for t in pending if not t.hold]
            )
            self._parallel = len(runnable) > 1
            if self._parallel:  # LangGraph starts a step's Sends first, then nodes by name
                runnable = sorted(runnable, key=P.run_key)
            cached, self._cached = self._cached, []
            if self._tasks_mode:
                shown = sorted([*cached, *runnable], key=P.run_key) if cached else runnable
                for t in shown:
                    if t.name != START:  # the input step is not a node users wrote
                        self._emit_task_start(cp, t, step_values)
            if cached and self._updates_mode:  # what the resumed step's finished tasks wrote
                for t in sorted(cached, key=P.run_key):
                    self._emit_update(t, cached=True)
            if self._prestep:  # a node-result cache, or a carried answer
                runnable = yield from self._before_run(runnable, step_values)
            yield (RUN, runnable, step_values)
            if self._prestep:
                self._after_run()
            if len(runnable) != len(pending):
                for t in pending:
                    if t.hold:
                        self.task_done(t)
            if self._paused and self._values_mode and any(t.writes for t in tasks):
                # A step that paused ends with the writes of its finished tasks, as in LangGraph.
                self._emit_values(live_values(spec, cp, tasks, extra), tasks)
            self._paused = False
            # Failed or paused (here or in a graph a node invoked): the run stops here.
            if len(pending) == 1:  # most steps: no generator for any()
                t = pending[0]
                stopped = isinstance(t.error, BaseException) or bool(
                    (t.interrupts or t.at_breakpoint) and t.writes is None
                )
            else:
                stopped = any(
                    isinstance(t.error, BaseException)
                    or ((t.interrupts or t.at_breakpoint) and t.writes is None)
                    for t in pending
                )
            if stopped:
                failed = (
                    [t for t in P.write_order(pending) if isinstance(t.error, BaseException)]
                    if len(pending) != 1 or isinstance(pending[0].error, BaseException)
                    else []  # one task that paused: nothing failed
                )
                yield from self._persist_stop(cp, tasks)
                if failed:
                    self.values = output_values(spec, live_values(spec, cp, tasks, extra))
                    raise failed[0].error  # type: ignore[misc]
                if not self.interrupts:  # only nested breakpoints: a breakpoint stop here too
                    self._breakpoint(cp, tasks, extra)
                    return
                self.values = output_values(spec, live_values(spec, cp, tasks, extra))
                return
            cp = self._next_checkpoint(cp, tasks, extra)
            extra = []
            self._extra = []
            finished, tasks = tasks, P.plan(cp)
            stop_after = bool(
                after and any(t.name in after or "*" in after for t in pending if t.name != START)
            )
            # The run stops after this save when nothing is left to run, a
            # breakpoint follows, or the step budget is spent: then it is final.
            final = (
                not tasks
                or cp.step + 1 > stop
                or stop_after
                or bool(opts.interrupt_before and self._stops_before(tasks))
            )
            if self._values_mode and any(t.writes for t in pending):
                self._emit_values(
                    cp.values, pending
                )  # before the checkpoint events, as in LangGraph
            save = self._save(cp, finished, final=final)
            if save is not None:
                yield save
                self._last_saved = cp.id
            if stop_after:
                self._breakpoint(cp, tasks, [])
                return

    def _resumed(self, cp: Checkpoint, tasks: list[Task], extra: list[tuple[str, Any]]) -> None:
        """Report where a resumed run starts, as LangGraph does.

        The stored values (with the resume's update, without the writes of the
        step's finished tasks) and the checkpoint with those tasks' results;
        the finished tasks' updates come again, marked cached, as the step starts.
        """
        if self._values_mode:  # not built for runs that do not stream values
            self._emit_values(live_values(self.spec, cp, [], extra))
        if self._checkpoints_mode:
            ordered = sorted(tasks, key=P.run_key) if len(tasks) > 1 else tasks
            self._report_checkpoint(cp, resumed_checkpoint(self.spec, cp, ordered, extra))
        self._cached = [t for t in tasks if t.done and t.name != START]

    def _stops_before(self, tasks: Sequence[Task]) -> bool:
        """Whether an ``interrupt_before`` breakpoint stops the run ahead of ``tasks``."""
        before = self.opts.interrupt_before
        if not before:
            return False
        return any(
            t.name in before or "*" in before for t in tasks if t.writes is None and t.name != START
        )

    def _breakpoint(self, cp: Checkpoint, tasks: list[Task], extra: list[tuple[str, Any]]) -> None:
        self.stopped_at_breakpoint = True
        self.values = output_values(self.spec, live_values(self.spec, cp, tasks, extra))
        if self._updates_mode:
            self._emit("updates", {INTERRUPT: ()})

    # -- checkpoints -----------------------------------------------------------

    def _counter_id(self) -> str:
        """A checkpoint id for a run that stores and reports none: a cheap counter."""
        self._counter += 1
        return f"run-{id(self):x}-{self._counter:08x}"

    def _input_checkpoint(self, prev: Checkpoint | None, inp: Any) -> Checkpoint:
        new_id = new_checkpoint_id() if self._real_ids else self._counter_id()
        if prev is None:
            values = P.initial_values(self.spec)
            versions = dict.fromkeys(values, new_id)
            chains = {}
            step = -1
        else:
            values, versions, step = dict(prev.values), dict(prev.versions), prev.step + 1
            chains = dict(prev.chains)
        # tuple.__new__ with every field in order (see _next_checkpoint).
        return tuple.__new__(
            Checkpoint,
            (
                self.opts.thread_id or "",
                self.opts.ns,
                new_id,
                prev.id if prev is not None else None,  # parent_id
                step,
                "input",  # source
                "",  # created_at: the time in the id, worked out only when someone asks
                values,
                versions,
                (tuple.__new__(TaskRef, (START, False, inp)),),  # frontier
                {},  # barriers
                dict(self.opts.metadata),
                (),  # writers
                chains,
                EMPTY,  # appended
            ),
        )

    def _next_checkpoint(
        self, cp: Checkpoint, tasks: Sequence[Task], extra: Sequence[tuple[str, Any]]
    ) -> Checkpoint:
        spec = self.spec
        batches: list[tuple[str, Sequence[tuple[str, Any]]]]
        if len(tasks) == 1:  # most steps: no ordering, no comprehensions
            task = tasks[0]
            batches = [(task.name, task.writes)] if task.writes else []
            routes = [(task.name, task.next or ())]
            writers: tuple[str, ...] = (task.name,)
        else:
            ordered = P.write_order(tasks)
            batches = [(t.name, t.writes) for t in ordered if t.writes]
            routes = [(t.name, t.next or ()) for t in ordered]
            writers = tuple(dict.fromkeys(t.name for t in ordered))
        if extra:
            # A resume's update lands before the step, as LangGraph applies it:
            # the resumed node may then write the same plain key without a clash.
            base, first = P.apply_writes(spec, cp.values, [("__input__", extra)])
            values, changed = P.apply_writes(spec, base, batches)
            changed = list(dict.fromkeys([*first, *changed]))
        else:
            values, changed = P.apply_writes(spec, cp.values, batches)
        new_id = new_checkpoint_id() if self._real_ids else self._counter_id()
        versions, chains, appended = P.new_versions(spec, cp, values, changed, new_id)
        frontier, barriers = P.next_frontier(spec, cp, routes)
        # tuple.__new__ with every field in order: this runs once per step, and a
        # NamedTuple's own __new__ is a Python function (one more frame).
        return tuple.__new__(
            Checkpoint,
            (
                cp.thread_id,
                cp.ns,
                new_id,
                cp.id,  # parent_id
                cp.step + 1,
                "loop",
                "",  # created_at: the time in the id
                values,
                versions,
                frontier,
                barriers,
                self.opts.metadata,
                writers,
                chains,
                appended,
            ),
        )

    def _finished_writes(self, task: Task, child: Checkpoint) -> tuple[PendingWrite, ...]:
        """What a step's only task wrote, for history, without storing data twice.

        A value the next checkpoint stores verbatim (a plain key's new value,
        or the items appended to a list) is recorded as ``DERIVED`` and read
        back from that checkpoint when history is shown; only writes that it
        cannot give back (other reducers) are stored.
        """
        if task.saved or not task.writes:  # nothing to record (None: not finished)
            return ()
        if len(task.writes) > 1 and len({k for k, _ in task.writes}) != len(task.writes):
            return _task_writes(task)[:1]
        channels = self.spec.channels
        appended, values = child.appended, child.values
        stored = []
        derived = True
        for key, value in task.writes:
            if key in appended or (key in values and isinstance(channels.get(key), _PLAIN)):
                stored.append([key, P.DERIVED])
            else:
                stored.append([key, value])
                derived = False
        if derived:
            return ()  # everything is in the next checkpoint: history derives it from there
        return (pending_write(task.id, P.WRITES, stored),)

    def _fork(self, stored: StoredCheckpoint) -> Generator[Effect, Any, StoredCheckpoint]:
        """Replay from an old checkpoint: copy it as a new head so history branches.

        Nothing that happened after it is carried over: its tasks run again,
        and an interrupt they raised fires again.
        """
        old = stored.checkpoint
        new_id = new_checkpoint_id()
        new = materialized(
            old._replace(
                id=new_id,
                parent_id=old.id,
                step=old.step + 1,
                source="fork",
                created_at=created_at_of(new_id),
            )
        )
        self.checkpoint = new
        # Not reported here: the replay that follows reports the fork as the
        # checkpoint it starts from (once, after its values, as LangGraph does).
        # A fork is written whatever the durability: it anchors the branch. It is
        # the run's last write only when nothing is left to run from it.
        yield (SAVE, new, (), not P.plan(new))
        self._last_saved = new.id
        return StoredCheckpoint(new, ())

    def _check_storable(self, tasks: Sequence[Task], writes: Sequence[PendingWrite]) -> None:
        """Refuse a resume whose answers or update cannot be stored, before anything runs."""
        serde = getattr(self.saver, "serde", None)
        if serde is None:
            return
        for t in tasks:
            if t.has_new_answer:
                serde.dumps(t.new_answer)
        for w in writes:
            serde.dumps(w.value)

    # -- per-task callbacks (called by the drivers) ---------------------------

    def task_done(self, task: Task, *, cached: bool = False) -> list[Effect]:
        """Record a finished, paused or failed task; returns effects to perform now.

        ``cached``: its writes come from the node-result cache (reported as
        LangGraph does: a cached update, no task result).
        """
        effects: list[Effect] = []
        cp = self.checkpoint
        assert cp is not None
        if task.writes is not None:  # done
            visible = task.name != START  # the input step is not a node users wrote
            if self._messages_mode and visible:
                self._emit_messages(task)
            if self._updates_mode and visible:
                self._emit_update(task, cached=cached)
            if self._tasks_mode and visible and not cached:
                self._emit_task_result(task)
            if self._parallel and self.saver is not None and self.opts.durability != "exit":
                effects.append((WRITES, cp.thread_id, cp.ns, cp.id, _task_writes(task), False))
                task.saved = True
        elif task.interrupts:
            self._paused = True
            for record in task.interrupts:
                intr = interrupt_of(record)
                self.interrupts.append(intr)
                self.interrupt_records.append(record)
                if self._updates_mode:
                    self._emit("updates", {INTERRUPT: (intr,)})
                if self._values_mode:
                    values = state_values(self.spec, self._live_now())
                    values[INTERRUPT] = (intr,)
                    self._emit("values", select_output(values, self.output_keys))
            if self._tasks_mode:  # after the interrupt, as in LangGraph
                self._emit_task_result(task)
        elif self._tasks_mode:
            self._emit_task_result(task)
        return effects

    def journal(self, task: Task, entries: list[Any]) -> list[Effect]:
        """Effects that persist a task's ``once()`` results right away."""
        cp = self.checkpoint
        if self.saver is None or cp is None or self.opts.durability == "exit":
            return []
        journal = (pending_write(task.id, P.JOURNAL, entries),)
        return [(WRITES, cp.thread_id, cp.ns, cp.id, journal, False)]

    def _live_now(self) -> dict[str, Any]:
        assert self.checkpoint is not None
        return live_values(self.spec, self.checkpoint, [], self._extra)

    def _persist_stop(self, cp: Checkpoint, tasks: Sequence[Task]) -> Generator[Effect, Any, None]:
        if self.saver is None:
            return
        if self.opts.durability == "exit":
            yield from self._flush_exit(final=False)  # the stop's writes follow
            cp = self.checkpoint or cp
        writes: list[PendingWrite] = []
        paused = []
        failed = False
        for t in tasks:  # a loop, not two comprehensions: once per pause
            if t.interrupts and t.writes is None:  # not done
                paused.append(t)
            if isinstance(t.error, BaseException):
                failed = True
        if paused and not failed:
            writes.extend(self._resume_writes)
            if not cp.ns:  # the root run keeps the waiting index (nested ones bubble up)
                writes.append(self._waiting_write(cp, paused))
        for t in tasks:
            if t.writes is not None:  # done
                if not t.saved:
                    writes.extend(_task_writes(t))
                asked = self._asked.get(t.id)
                if asked:  # answered: history still shows what the step asked
                    writes.append(pending_write(t.id, P.INTERRUPTS, asked))
                if t.error is not None:
                    writes.append(pending_write(t.id, P.ERROR, _error_text(t.error)))
            else:
                if t.interrupts:
                    writes.append(pending_write(t.id, P.INTERRUPTS, t.interrupts))
                if isinstance(t.error, BaseException):
                    writes.append(pending_write(t.id, P.ERROR, _error_text(t.error)))
                if t.answers:
                    writes.append(pending_write(t.id, P.ANSWERS, t.answers))
                if t.journal:
                    writes.append(pending_write(t.id, P.JOURNAL, t.journal))
        if writes:
            yield (WRITES, cp.thread_id, cp.ns, cp.id, tuple(writes), True)

    def _waiting_write(self, cp: Checkpoint, paused: Sequence[Task]) -> PendingWrite:
        cap = _capabilities()
        record = cap.waiting_record(
            cp.thread_id,
            cp.id,
            self.spec.name,
            now_iso(),
            [[r["id"], r["value"], t.name] for t in paused for r in t.interrupts],
            self.opts.metadata,
        )
        return pending_write(cap.INBOX_TASK, cap.WAITING, record)

    def config_of_result(self) -> dict[str, Any] | None:
        """The config addressing the checkpoint the run ended at."""
        return checkpoint_config(self.checkpoint) if self.checkpoint is not None else None


def _with_resume(
    finished: Sequence[Task], resume: tuple[PendingWrite, ...]
) -> tuple[PendingWrite, ...]:
    """The writes saved with the step a resume started: its update and goto, then the tasks'.

    Kept on the resumed checkpoint, as LangGraph keeps them, so history shows
    the state that step ran with. Every task's writes are stored whole: the
    next checkpoint holds the update's changes too, so they cannot be derived.
    """
    return (*resume, *(w for t in finished if not t.saved for w in _task_writes(t)))


@functools.cache
def _capabilities() -> ModuleType:
    # Imported on the first pause, then cached: at module level it would load the
    # capabilities and the serializer with pausegraph.graph (import budget), and a
    # function-level `from ... import` of five names costs ~6k instructions per pause.
    import pausegraph.checkpoint.capabilities as capabilities

    return capabilities


_PLAIN = (LastValue, type(None))
"""Channels whose new value the next checkpoint stores verbatim (``None``: a free-form key)."""


def _is_new_input(inp: Any) -> bool:
    return inp is not None and not isinstance(inp, Command)


def _error_text(error: Any) -> str:
    return error if isinstance(error, str) else repr(error)


def _task_writes(task: Task) -> tuple[PendingWrite, ...]:
    out = [
        pending_write(task.id, P.WRITES, [list(w) for w in task.writes or ()]),
        pending_write(task.id, P.NEXT, list(task.next or ())),
    ]
    if task.answers:
        out.append(pending_write(task.id, P.ANSWERS, task.answers))
    return tuple(out)


def materialized(cp: Checkpoint) -> Checkpoint:
    """``cp`` with every chained list key stored whole again.

    Needed where history branches (forks) or where earlier chunks were not
    saved: a new branch must not append chunks next to another branch's.
    """
    if not cp.chains:
        return cp
    versions = dict(cp.versions)
    for key in cp.chains:
        versions[key] = cp.id
    return cp._replace(versions=versions, chains={}, appended={})
