"""Where a run's store effects go: the saver, through the thread's lease, some held back.

Both drivers hand every LOAD, SAVE and WRITES effect to a :class:`RunStore`,
which holds some writes back to store them together (one round trip on a
saver that batches writes) without weakening what the run's durability says.

With ``durability="sync"`` (the default) a mid-run save is held only until
the run next runs a node users wrote, reports stream chunks or stops: each
checkpoint is stored before code runs after it or anyone hears of it, and
the input checkpoint travels with the first step's. Task writes are stored
as each task ends, so a crash in a step reruns only the tasks that had not
finished.

With ``durability="async"`` every mid-run write is held back until the next
write that must not wait:

* the run's last write (the run stops: nothing it returns is unsaved);
* a ``once()`` result (its point is to be stored at once);
* a load (the run reads what it wrote);
* the start of a step once the oldest held write is :data:`FLUSH_SECONDS` old,
  so fast steps are stored together and a slow node waits for nothing.

A crash then loses at most the steps finished since the last store, which the
next run runs again, as with LangGraph's ``durability="async"``; what a run
returns or pauses on is always stored.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from pausegraph.constants import START
from pausegraph.runtime._lease import Lease, lease_for
from pausegraph.runtime._loop import LOAD, SAVE, Effect, RunLoop
from pausegraph.runtime._perform import (
    blocks,
    perform_async,
    perform_batch_async,
    perform_batch_sync,
    perform_sync,
)
from pausegraph.runtime._planner import Task

__all__ = ["FLUSH_SECONDS", "RunStore"]

FLUSH_SECONDS = float(os.environ.get("PAUSEGRAPH_FLUSH_SECONDS", "0.05"))
"""Under ``durability="async"``, the longest a finished step stays unsaved while the run goes on."""


class RunStore:
    """One run's way to its saver (see the module docstring)."""

    __slots__ = (
        "_carrier",
        "_held",
        "_lock",
        "_since",
        "asynchronous",
        "blocking",
        "lease",
        "saver",
    )

    def __init__(self, saver: Any, loop: RunLoop) -> None:
        opts = loop.opts
        self.saver = saver
        self.lease: Lease | None = lease_for(
            saver, opts.thread_id, nested=opts.nested_answer is not None
        )
        # Only a folded lease rides on the effects; any other is taken before
        # the run and given back after it, and the effects go straight to the saver.
        self._carrier = self.lease if self.lease is not None and self.lease.folded else None
        self.asynchronous = opts.durability == "async"
        # Whether the async methods below run the sync ones (see ``blocks``);
        # asked by ``astart``, which every async run calls first.
        self.blocking = False
        self._held: list[Effect] = []
        self._since = 0.0
        self._lock = threading.Lock()

    def _hold(self, effect: Effect) -> bool:
        """Hold ``effect`` back if the run's durability allows it; whether it did."""
        if effect[0] == SAVE:
            if effect[3]:  # the run's last write (see is_last_write)
                return False
        elif not self.asynchronous or effect[5]:
            return False
        with self._lock:  # parallel tasks' writes come from worker threads
            if not self._held:
                self._since = time.monotonic()
            self._held.append(effect)
        return True

    def _take(self, last: Effect | None = None) -> list[Effect]:
        """The held writes (and ``last``), now no longer held."""
        if not self._held:
            return [] if last is None else [last]
        with self._lock:
            out = self._held[:]
            self._held.clear()
        if last is not None:
            out.append(last)
        return out

    def _must_store(self, tasks: list[Task], reporting: bool) -> bool:
        """Whether the held writes must be stored before a step runs ``tasks``."""
        if not self._held:
            return False
        if self.asynchronous:
            return time.monotonic() - self._since >= FLUSH_SECONDS
        if reporting:
            return True
        if len(tasks) == 1:  # most steps: no generator for any()
            return tasks[0].name != START
        return any(t.name != START for t in tasks)

    # -- sync ----------------------------------------------------------------

    def start(self) -> None:
        """Take the thread's lease before the run (unless its first load will).

        Raises:
            ThreadBusyError: Another run holds it.
        """
        if self.lease is not None:
            self.lease.start()

    def perform(self, effect: Effect) -> Any:
        """Perform a LOAD, SAVE or WRITES effect; returns what a LOAD loaded."""
        if effect[0] == LOAD:
            if self._held:
                self.flush()
            if self._carrier is not None:
                return self._carrier.perform(effect)
            return perform_sync(self.saver, effect)
        if self._hold(effect):
            return None
        if self._held:
            self._store(self._take(effect))
        elif self._carrier is not None:
            self._carrier.perform(effect)
        else:  # nothing held back: straight to the saver
            perform_sync(self.saver, effect)
        return None

    def write_now(self, effect: Effect) -> None:
        """Store ``effect`` (a ``once()`` result) at once, after the writes held back."""
        self._store(self._take(effect))

    def step(self, tasks: list[Task], *, reporting: bool) -> None:
        """A step is about to run ``tasks`` (after ``reporting`` stream chunks, if true).

        Stores the held writes when the run's durability says they must not wait.
        """
        if self._held and self._must_store(tasks, reporting):
            self._store(self._take())

    def flush(self) -> None:
        """Store the writes held back."""
        if self._held:
            self._store(self._take())

    def _store(self, effects: list[Effect]) -> None:
        if self._carrier is not None:
            self._carrier.perform_batch(effects)
        else:
            perform_batch_sync(self.saver, effects)

    def close(self, *, failing: bool) -> None:
        """The run stopped: store what is held back, then give the lease back.

        When the run is failing, a write that fails too is dropped (the run's own
        error is the one to report; the next run redoes those steps).
        """
        try:
            if self._held:
                self.flush()
        except Exception:
            if not failing:
                raise
        finally:
            if self.lease is not None:
                self.lease.release()

    # -- async ---------------------------------------------------------------

    def start_blocking(self) -> bool:
        """For an async run: whether the saver only blocks (see ``blocks``), then :meth:`start`.

        Every async run asks this first; when it returns false, the run
        awaits :meth:`astart` instead.
        """
        self.blocking = blocks(self.saver)
        if self.blocking and self.lease is not None:
            self.lease.start()
        return self.blocking

    async def astart(self) -> None:
        """Async :meth:`start`, for a saver that does not only block (see :meth:`start_blocking`)."""
        if self.lease is not None:
            await self.lease.astart()

    async def aperform(self, effect: Effect) -> Any:
        """Async :meth:`perform`."""
        if self.blocking:
            return self.perform(effect)
        if effect[0] == LOAD:
            await self.aflush()
            if self._carrier is not None:
                return await self._carrier.aperform(effect)
            return await perform_async(self.saver, effect)
        if not self._hold(effect):
            await self._astore(self._take(effect))
        return None

    async def astep(self, tasks: list[Task], *, reporting: bool) -> None:
        """Async :meth:`step`."""
        if self._must_store(tasks, reporting):
            await self.aflush()

    async def aflush(self) -> None:
        """Async :meth:`flush`."""
        if self.blocking:
            self.flush()
            return
        effects = self._take()
        if effects:
            await self._astore(effects)

    async def _astore(self, effects: list[Effect]) -> None:
        if self._carrier is not None:
            await self._carrier.aperform_batch(effects)
        else:
            await perform_batch_async(self.saver, effects)

    async def aclose(self, *, failing: bool) -> None:
        """Async :meth:`close`."""
        if self.blocking:
            self.close(failing=failing)
            return
        try:
            await self.aflush()
        except Exception:
            if not failing:
                raise
        finally:
            if self.lease is not None:
                await self.lease.arelease()
