"""What a run reports as it goes: the stream chunks of each mode, from the run loop's moments.

A mixin of :class:`~pausegraph.runtime._loop.RunLoop`, which decides when a
step starts, a task ends or a checkpoint is made; the shapes of the payloads
are built in ``_events`` and ``_views``, and chunks collect in ``out`` (or,
for what is reported while a step runs, in ``live``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._records import Checkpoint, created_at_of
from pausegraph.runtime import _planner as P
from pausegraph.runtime._events import debug_event, now_iso, task_result, task_start
from pausegraph.runtime._planner import Task
from pausegraph.runtime._views import debug_checkpoint, select_output, select_update, state_values

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec
    from pausegraph.runtime._live import LiveChunks
    from pausegraph.runtime._options import RunOptions

__all__ = ["LIFECYCLE", "RunReports"]

LIFECYCLE = "__lifecycle__"
"""An internal stream mode (``astream_events``): ``(kind, step, task, payload)`` per
task start (``"task"``) and end (``"task_result"``), the payloads those of ``tasks``."""


class RunReports:
    """The stream chunks of a run (see the module)."""

    spec: GraphSpec
    opts: RunOptions
    out: deque[tuple[str, Any]]
    checkpoint: Checkpoint | None
    sink: Any
    live: LiveChunks | None
    output_keys: str | tuple[str, ...] | None
    _seen_messages: set[str] | None
    _step_values: Mapping[str, Any]
    _values_mode: bool
    _debug_mode: bool
    _lifecycle_mode: bool

    def live_chunks(self) -> LiveChunks:
        """Where this run's stream writer and the graphs it runs report as they go."""
        if self.live is None:
            from pausegraph.runtime._live import LiveChunks

            self.live = LiveChunks()
        return self.live

    def _emit(self, mode: str, chunk: Any) -> None:
        self.out.append((mode, chunk))

    def _emit_checkpoint(self, cp: Checkpoint) -> None:
        tasks = P.plan(cp)
        if len(tasks) > 1:  # in LangGraph's run order, as the step will start them
            tasks.sort(key=P.run_key)
        self._report_checkpoint(cp, debug_checkpoint(self.spec, cp, tasks))

    def _report_checkpoint(self, cp: Checkpoint, payload: dict[str, Any]) -> None:
        self._report(
            "checkpoints", "checkpoint", cp.step, cp.created_at or created_at_of(cp.id), payload
        )

    def _report(self, mode: str, kind: str, step: int, timestamp: str, payload: Any) -> None:
        """``payload`` in ``mode`` (``tasks``/``checkpoints``) and, dated, in ``debug``."""
        if mode in self.opts.modes:
            self._emit(mode, payload)
        if self._debug_mode:
            self._emit("debug", debug_event(step, kind, timestamp, payload))

    def seen_messages(self) -> set[str]:
        """Ids of the messages this run streamed (shared with the runs it nests or is nested in)."""
        sink = self.sink
        if sink is not None:
            return sink.seen  # type: ignore[no-any-return]
        if self._seen_messages is None:
            self._seen_messages = set()
        return self._seen_messages

    def _emit_messages(self, task: Task) -> None:
        # Imported on first use: only runs streaming "messages" need it.
        from pausegraph.runtime._message_chunks import message_chunks

        opts, sink = self.opts, self.sink
        # A nested run without a checkpointer has no ns of its own: its stream path says it.
        ns = opts.ns or ("|".join(sink.path) if sink is not None else "")
        seen = self.seen_messages()
        before = self._step_values  # what the step's tasks ran on
        for chunk in message_chunks(self.spec, task, task.step, ns, opts.config, before, seen):
            self._emit("messages", chunk)

    def _emit_values(self, values: Mapping[str, Any], step: Sequence[Task] | None = None) -> None:
        """A ``values`` chunk; after ``step``, only if it wrote one of the output keys."""
        if not self._values_mode:
            return
        keys = self.output_keys
        if keys is None:
            self._emit("values", state_values(self.spec, values))
        elif step is None or _writes_any(step, keys):
            self._emit("values", select_output(state_values(self.spec, values), keys))

    def _emit_update(self, task: Task, *, cached: bool = False) -> None:
        """A task's ``updates`` chunk: what it wrote (to the output keys, if given).

        ``cached`` marks a finished task's update that a resumed step reports again.
        """
        update = dict(task.writes) if task.writes else None
        if self.output_keys is not None:
            update = select_update(update, self.output_keys)
        if cached:
            self._emit("updates", {task.name: update, "__metadata__": {"cached": True}})
        else:
            self._emit("updates", {task.name: update})

    # -- tasks stream ------------------------------------------------------------

    def _emit_task_start(self, cp: Checkpoint, t: Task, values: Mapping[str, Any]) -> None:
        payload = task_start(self.spec, t, values, self.opts.config)
        self._report("tasks", "task", cp.step + 1, now_iso(), payload)
        if self._lifecycle_mode:
            self._emit(LIFECYCLE, ("task", cp.step + 1, t, payload))

    def _emit_task_result(self, t: Task) -> None:
        cp = self.checkpoint
        assert cp is not None
        payload = task_result(t)
        self._report("tasks", "task_result", cp.step + 1, now_iso(), payload)
        if self._lifecycle_mode:
            self._emit(LIFECYCLE, ("task_result", cp.step + 1, t, payload))


def _writes_any(tasks: Sequence[Task], keys: str | tuple[str, ...]) -> bool:
    """Whether ``tasks`` wrote any of ``keys`` (a str: that one key)."""
    wanted = (keys,) if isinstance(keys, str) else keys
    return any(channel in wanted for t in tasks if t.writes for channel, _ in t.writes)
