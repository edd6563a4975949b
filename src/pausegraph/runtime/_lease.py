"""One run per thread at a time: take the thread's lease for the run, keep it alive, give it back.

A run takes the lease before it loads anything and holds it until it stops;
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
import uuid
from typing import Any

from pausegraph.errors import ThreadBusyError

__all__ = ["LEASE_SECONDS", "Lease", "lease_for"]

LEASE_SECONDS = float(os.environ.get("PAUSEGRAPH_LEASE_SECONDS", "30"))
"""How long a lease lives without renewal: how soon a crashed run's thread is free again."""

_OWNER_PREFIX = uuid.uuid4().hex[:12]  # this process; a counter tells its runs apart
_owners = itertools.count()


class Lease:
    """The lease one run holds on one thread."""

    __slots__ = ("_next_renewal", "owner", "saver", "thread_id", "ttl")

    def __init__(self, saver: Any, thread_id: str, ttl: float) -> None:
        self.saver = saver
        self.thread_id = thread_id
        self.ttl = ttl
        self.owner = f"{_OWNER_PREFIX}-{next(_owners)}"
        self._next_renewal = 0.0

    def _busy(self) -> ThreadBusyError:
        return ThreadBusyError(
            f"Thread {self.thread_id!r} is already running (in this process or another). "
            "A thread runs one invocation at a time: wait for it to pause or finish, then "
            f"retry. A run that crashed frees the thread within {self.ttl:g} s."
        )

    def acquire(self) -> None:
        """Take the lease and start renewing it.

        Raises:
            ThreadBusyError: Another run holds it.
        """
        if not self.saver.acquire_lease(self.thread_id, self.owner, self.ttl):
            raise self._busy()
        self._next_renewal = time.monotonic() + self.ttl / 3
        _heartbeat.add(self)

    def release(self) -> None:
        """Stop renewing and give the lease back."""
        _heartbeat.discard(self)
        self.saver.release_lease(self.thread_id, self.owner)

    async def aacquire(self) -> None:
        """Async :meth:`acquire` (renewals run in the heartbeat thread)."""
        if not await self.saver.aacquire_lease(self.thread_id, self.owner, self.ttl):
            raise self._busy()
        self._next_renewal = time.monotonic() + self.ttl / 3
        if _has_sync_leases(self.saver):
            _heartbeat.add(self)

    async def arelease(self) -> None:
        """Async :meth:`release`."""
        _heartbeat.discard(self)
        await self.saver.arelease_lease(self.thread_id, self.owner)

    def renew_if_due(self, now: float) -> None:
        """Renew when a third of the lifetime has passed (called by the heartbeat)."""
        if now >= self._next_renewal:
            self._next_renewal = now + self.ttl / 3
            self.saver.acquire_lease(self.thread_id, self.owner, self.ttl)


def _has_sync_leases(saver: Any) -> bool:
    return not getattr(saver, "async_only", False)


class _Heartbeat:
    """One daemon thread renewing every live lease of this process."""

    def __init__(self) -> None:
        self._leases: set[Lease] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, lease: Lease) -> None:
        with self._lock:
            self._leases.add(lease)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pausegraph-leases", daemon=True
                )
                self._thread.start()

    def discard(self, lease: Lease) -> None:
        with self._lock:
            self._leases.discard(lease)

    def _run(self) -> None:
        while True:
            time.sleep(min(1.0, LEASE_SECONDS / 6))
            with self._lock:
                leases = list(self._leases)
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
    if not _offers_leases(type(saver)):
        return None
    return Lease(saver, thread_id, LEASE_SECONDS)


_capable: dict[type, bool] = {}


def _offers_leases(cls: type) -> bool:
    # isinstance() against a runtime-checkable Protocol walks its attributes
    # (~10 us); the answer only depends on the class, so it is asked once.
    known = _capable.get(cls)
    if known is None:
        from pausegraph.checkpoint.capabilities import ThreadLeases

        known = _capable[cls] = issubclass(cls, ThreadLeases)
    return known
