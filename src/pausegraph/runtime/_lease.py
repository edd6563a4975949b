"""One run per thread at a time: take the thread's lease for the run, keep it alive, give it back.

A run takes the lease before it loads anything (or with that load, on a saver
that folds leases into its loads and writes) and holds it until it stops;
a second run of the same thread, in this process or another, gets
:class:`~pausegraph.errors.ThreadBusyError` at once. A heartbeat renews the
lease every third of its lifetime, so a long node keeps it, and a process that
dies simply stops renewing: its lease expires and the thread is free again.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any

from pausegraph.errors import ThreadBusyError
from pausegraph.runtime._loop import LOAD, SAVE, Effect
from pausegraph.runtime._perform import (
    batches,
    is_last_write,
    perform_async,
    perform_batch_async,
    perform_batch_sync,
    perform_sync,
)

__all__ = ["LEASE_SECONDS", "Lease", "lease_for"]

LEASE_SECONDS = float(os.environ.get("PAUSEGRAPH_LEASE_SECONDS", "30"))
"""How long a lease lives without renewal: how soon a crashed run's thread is free again."""

# This process (random; uuid would import platform, ~3 ms); a counter tells its runs apart.
_OWNER_PREFIX = os.urandom(6).hex()
_owners = itertools.count()


class Lease:
    """The lease one run holds on one thread.

    With a :class:`~pausegraph.checkpoint.capabilities.FoldedLeases` saver the
    lease rides on the run's effects (:meth:`perform`): it is taken by the first
    load and given back by the last write. Otherwise :meth:`start` takes it
    before the run and :meth:`release` gives it back after.
    """

    __slots__ = (
        "_held",
        "_live",
        "_lock",
        "_next_renewal",
        "_released",
        "folded",
        "owner",
        "saver",
        "thread_id",
        "ttl",
    )

    def __init__(self, saver: Any, thread_id: str, ttl: float, folded: bool) -> None:
        self.saver = saver
        self.thread_id = thread_id
        self.ttl = ttl
        self.folded = folded
        self.owner = f"{_OWNER_PREFIX}-{next(_owners)}"
        self._next_renewal = 0.0
        self._lock = threading.Lock()
        self._live = False  # renewed by the heartbeat
        self._held = False
        self._released = False  # given back with the run's last write

    def _busy(self) -> ThreadBusyError:
        return ThreadBusyError(
            f"Thread {self.thread_id!r} is already running (in this process or another). "
            "A thread runs one invocation at a time: wait for it to pause or finish, then "
            f"retry. A run that crashed frees the thread within {self.ttl:g} s."
        )

    def _took(self, taken: bool) -> None:
        if not taken:
            raise self._busy()
        self._held = True
        self._next_renewal = time.monotonic() + self.ttl / 3
        self._live = True
        _heartbeat.add(self)

    def _stop(self) -> None:
        """Stop renewing; waits for a renewal under way, so none follows the release."""
        _heartbeat.discard(self)
        with self._lock:
            self._live = False

    # -- sync ----------------------------------------------------------------

    def start(self) -> None:
        """Take the lease before the run, unless the run's first load will.

        Raises:
            ThreadBusyError: Another run holds it.
        """
        if not self.folded:
            self._took(self.saver.acquire_lease(self.thread_id, self.owner, self.ttl))

    def acquire(self) -> None:
        """Take the lease and start renewing it.

        Raises:
            ThreadBusyError: Another run holds it.
        """
        self._took(self.saver.acquire_lease(self.thread_id, self.owner, self.ttl))

    def perform(self, effect: Effect) -> Any:
        """Perform a store effect of the run, with the lease folded in (see the class)."""
        if not self.folded:
            return perform_sync(self.saver, effect)
        kind = effect[0]
        if not self._live:
            if kind == LOAD:
                taken, stored = self.saver.load_leased(*effect[1:4], self.owner, self.ttl)
                self._took(taken)
                return stored
            self._check_open()
            self.acquire()
        if not is_last_write(effect):
            return perform_sync(self.saver, effect)
        self._stop()
        if kind == SAVE:
            self.saver.save_released(effect[1], effect[2], self.owner)
        else:
            self.saver.save_writes_released(*effect[1:5], self.owner)
        self._held = False
        self._released = True
        return None

    def perform_batch(self, effects: list[Effect]) -> None:
        """Store SAVE and WRITES effects in order, in one call where the saver can.

        A batch that ends with the run's last write gives the lease back with it.
        """
        if len(effects) == 1 or not batches(self.saver):
            for effect in effects:
                self.perform(effect)
        elif self.folded and is_last_write(effects[-1]):
            self._stop()
            perform_batch_sync(self.saver, effects, release=self.owner)
            self._held = False
            self._released = True
        else:
            perform_batch_sync(self.saver, effects)

    def release(self) -> None:
        """Stop renewing and give the lease back (unless the last write did, or it was not taken)."""
        _heartbeat.discard(self)  # what _stop() does, one call fewer per run
        with self._lock:
            self._live = False
        if self._held:
            self._held = False
            self.saver.release_lease(self.thread_id, self.owner)

    def _check_open(self) -> None:
        if self._released:
            raise RuntimeError(
                f"pausegraph bug: the run on thread {self.thread_id!r} stored something after "
                "its last write, which gave the lease back. Please report it."
            )

    # -- async ---------------------------------------------------------------

    async def astart(self) -> None:
        """Async :meth:`start`."""
        if not self.folded:
            await self.aacquire()

    async def aacquire(self) -> None:
        """Async :meth:`acquire` (renewals run in the heartbeat thread)."""
        self._took(await self.saver.aacquire_lease(self.thread_id, self.owner, self.ttl))

    async def aperform(self, effect: Effect) -> Any:
        """Async :meth:`perform`."""
        if not self.folded:
            return await perform_async(self.saver, effect)
        kind = effect[0]
        if not self._live:
            if kind == LOAD:
                taken, stored = await self.saver.aload_leased(*effect[1:4], self.owner, self.ttl)
                self._took(taken)
                return stored
            self._check_open()
            await self.aacquire()
        if not is_last_write(effect):
            return await perform_async(self.saver, effect)
        self._stop()
        if kind == SAVE:
            await self.saver.asave_released(effect[1], effect[2], self.owner)
        else:
            await self.saver.asave_writes_released(*effect[1:5], self.owner)
        self._held = False
        self._released = True
        return None

    async def aperform_batch(self, effects: list[Effect]) -> None:
        """Async :meth:`perform_batch`."""
        if len(effects) == 1 or not batches(self.saver):
            for effect in effects:
                await self.aperform(effect)
        elif self.folded and is_last_write(effects[-1]):
            self._stop()
            await perform_batch_async(self.saver, effects, release=self.owner)
            self._held = False
            self._released = True
        else:
            await perform_batch_async(self.saver, effects)

    async def arelease(self) -> None:
        """Async :meth:`release`."""
        self._stop()
        if self._held:
            self._held = False
            await self.saver.arelease_lease(self.thread_id, self.owner)

    # -- the heartbeat -------------------------------------------------------

    def renew_if_due(self, now: float) -> None:
        """Renew when a third of the lifetime has passed (called by the heartbeat)."""
        with self._lock:
            if self._live and now >= self._next_renewal:
                self._next_renewal = now + self.ttl / 3
                self.saver.acquire_lease(self.thread_id, self.owner, self.ttl)


class _Heartbeat:
    """One daemon thread renewing every live lease of this process.

    Each run adds its lease and discards it: one set operation each, which
    CPython performs atomically (with or without the GIL: a set locks itself
    on free-threaded builds), so only starting the thread takes the lock.
    """

    def __init__(self) -> None:
        self._leases: set[Lease] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, lease: Lease) -> None:
        self._leases.add(lease)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    thread = threading.Thread(
                        target=self._run, name="pausegraph-leases", daemon=True
                    )
                    thread.start()
                    self._thread = thread

    def discard(self, lease: Lease) -> None:
        self._leases.discard(lease)

    def _run(self) -> None:
        while True:
            time.sleep(min(1.0, LEASE_SECONDS / 6))
            leases = self._leases.copy()  # atomic, as add and discard are
            now = time.monotonic()
            for lease in leases:
                try:
                    lease.renew_if_due(now)
                except Exception:  # a failed renewal is retried on the next beat
                    continue


_heartbeat = _Heartbeat()


def lease_for(saver: Any, thread_id: str | None, *, nested: bool) -> Lease | None:
    """The lease a run must hold, or ``None`` (no saver leases, no thread, or a nested run)."""
    if nested or thread_id is None or saver is None:
        return None
    cls = type(saver)
    offers = _capable[cls] if cls in _capable else _offers_leases(cls)
    if offers is None:
        return None
    # Renewals run on the heartbeat thread, with the saver's sync methods (every
    # saver has them; async ones reach the store through a sync twin).
    # Positional: on 3.11 a class called with keywords builds a dict for __init__.
    return Lease(saver, thread_id, LEASE_SECONDS, offers)


_capable: dict[type, bool | None] = {}


def _offers_leases(cls: type) -> bool | None:
    """``None`` without leases, else whether the saver folds them into loads and writes."""
    # isinstance() against a runtime-checkable Protocol walks its attributes
    # (~10 us); the answer only depends on the class, so it is asked once.
    from pausegraph.checkpoint.capabilities import FoldedLeases, ThreadLeases

    known = None if not issubclass(cls, ThreadLeases) else issubclass(cls, FoldedLeases)
    _capable[cls] = known
    return known
