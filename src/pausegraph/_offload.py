"""Run a blocking call on a worker thread and await it: ``loop.run_in_executor``, cheaper.

``run_in_executor`` chains a ``concurrent.futures.Future`` to an asyncio one
and wakes the event loop once per finished call. Under load (a hundred runs
awaiting their sync nodes and SQLite saves at once) that machinery costs more
than the calls. :func:`offload` submits the call to the same executor, but
posts its outcome straight into a per-loop inbox: the first result of a batch
wakes the loop, the rest ride along, and the loop settles the whole batch in
one callback.

:class:`Crew` goes further for a stream of calls (sync nodes under
asyncio): drains running on the executor's threads take queued calls one
after another, so most calls skip the executor's own per-call machinery.

Behaviour matches ``run_in_executor``: calls run on the executor's threads
(so its size still bounds how many run at once, and a one-thread executor
still runs them in order), exceptions propagate to the awaiting coroutine,
and a call whose future was cancelled before it started is not run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

__all__ = ["Burst", "Crew", "Lane", "Outcome", "offload"]

T = TypeVar("T")


class _Inbox:
    """Outcomes coming back to one event loop from worker threads."""

    __slots__ = ("_items", "_lock", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._items: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        self._lock = threading.Lock()

    def post(self, fut: asyncio.Future[Any], error: BaseException | None, value: Any) -> None:
        """Called on a worker thread: hand an outcome to the loop."""
        with self._lock:
            first = not self._items
            self._items.append((fut, error, value))
        if first:  # later posts find the drain already scheduled
            # RuntimeError: the loop closed, so nobody awaits the outcome any more.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            items, self._items = self._items, []
        for fut, error, value in items:
            if fut.cancelled():
                continue
            if error is None:
                fut.set_result(value)
            else:
                fut.set_exception(error)


_inboxes: dict[asyncio.AbstractEventLoop, _Inbox] = {}
_inboxes_lock = threading.Lock()


def _inbox(loop: asyncio.AbstractEventLoop) -> _Inbox:
    inbox = _inboxes.get(loop)
    if inbox is None:
        with _inboxes_lock:
            for old in [lp for lp in _inboxes if lp.is_closed()]:  # do not keep dead loops
                del _inboxes[old]
            inbox = _inboxes.setdefault(loop, _Inbox(loop))
    return inbox


def _settle(inbox: _Inbox, fut: asyncio.Future[Any], fn: Callable[..., Any], args: Any) -> None:
    """Run one offloaded call (on a worker thread) and post its outcome."""
    if fut.cancelled():  # the caller gave up before the call started
        return
    try:
        value = fn(*args)
    except StopIteration as exc:  # a future cannot hold it (as in asyncio tasks)
        error: BaseException = RuntimeError("offloaded call raised StopIteration")
        error.__cause__ = exc
        inbox.post(fut, error, None)
    except BaseException as exc:
        inbox.post(fut, exc, None)
    else:
        inbox.post(fut, None, value)


def offload(executor: Executor, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """``fn(*args)`` on one of ``executor``'s threads, as a future of the running loop."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()
    executor.submit(_settle, _inbox(loop), fut, fn, args)
    return fut


class Crew:
    """:func:`offload` for calls that come in streams: fewer hand-overs to the executor.

    Calls queue in the crew; each of up to ``size`` drains, running on a thread
    of ``executor``, takes the oldest call, runs it and takes the next, until
    none is left. A call is handed to a new drain unless a drain is free to
    take it at once (one between calls), so a call that blocks never holds
    back another: each still gets a thread of its own, up to ``size`` at once
    (the executor's size, which bounds them anyway), as with :func:`offload`.
    What a crew saves is the executor's per-call machinery (a future, its
    condition, an idle-thread semaphore) for the calls a free drain takes.

    Behaviour otherwise matches :func:`offload`: calls start in the order
    given, exceptions propagate, and a call whose future was cancelled
    before it started is not run.
    """

    __slots__ = ("_executor", "_free", "_lock", "_queue", "_size", "_working")

    def __init__(self, executor: Executor, size: int) -> None:
        if size < 1:
            raise ValueError(f"a crew needs at least one thread, got size={size}")
        self._executor = executor
        self._size = size
        self._queue: deque[tuple[_Inbox, asyncio.Future[Any], Callable[..., Any], Any]] = deque()
        self._lock = threading.Lock()
        self._working = 0  # drains submitted and not yet finished
        self._free = 0  # of which are between calls: each takes a queued call at once

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` on a thread of the executor, as a future of the running loop."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        item = (_inbox(loop), fut, fn, args)
        with self._lock:
            self._queue.append(item)
            grow = len(self._queue) > self._free and self._working < self._size
            if grow:
                self._working += 1
                self._free += 1
        if grow:
            try:
                self._executor.submit(self._drain)
            except BaseException:  # e.g. the executor was shut down: this drain never runs
                with self._lock:
                    self._working -= 1
                    self._free -= 1
                    taken = item not in self._queue  # a running drain took the call
                    if not taken:
                        self._queue.remove(item)
                if not taken:
                    raise
        return fut

    def _drain(self) -> None:
        queue, lock = self._queue, self._lock
        lock.acquire()
        try:
            while queue:
                item = queue.popleft()
                self._free -= 1
                lock.release()
                try:
                    _settle(*item)
                finally:
                    lock.acquire()
                    self._free += 1
            self._working -= 1
            self._free -= 1
        finally:
            lock.release()


Outcome = tuple[BaseException | None, Any]
"""What a call did: ``(error, None)`` or ``(None, value)``."""

Burst = Callable[[Sequence[Callable[[], Any]]], Sequence[Outcome]]
"""Runs the calls a lane has queued, in order, and returns each one's outcome."""


class Lane:
    """Calls run one at a time, in the order given, on a thread of ``executor``.

    What a one-thread executor does, with one hand-over per burst instead of
    one per call: while the lane is busy, new calls queue behind it and the
    running drain picks them up.

    With ``burst``, the drain hands it every call queued at that moment at
    once, and posts their outcomes after it returns: a store can then run a
    burst in one transaction, and report success only once it is committed.
    """

    __slots__ = ("_burst", "_busy", "_executor", "_lock", "_queue")

    def __init__(self, executor: Executor, *, burst: Burst | None = None) -> None:
        self._executor = executor
        self._burst = burst
        self._queue: deque[tuple[_Inbox, asyncio.Future[Any], Callable[..., Any], Any]] = deque()
        self._lock = threading.Lock()
        self._busy = False

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` on the lane, as a future of the running loop."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._queue.append((_inbox(loop), fut, fn, args))
            idle, self._busy = not self._busy, True
        if idle:
            try:
                self._executor.submit(self._drain)
            except BaseException:  # e.g. the executor was shut down: nothing will drain
                with self._lock:
                    self._queue.clear()
                    self._busy = False
                raise
        return fut

    def _drain(self) -> None:
        queue = self._queue
        if self._burst is not None:
            self._drain_bursts(self._burst)
            return
        while True:
            with self._lock:
                if not queue:
                    self._busy = False
                    return
                item = queue.popleft()
            _settle(*item)

    def _drain_bursts(self, burst: Burst) -> None:
        queue = self._queue
        while True:
            with self._lock:
                if not queue:
                    self._busy = False
                    return
                items = list(queue)
                queue.clear()
            items = [item for item in items if not item[1].cancelled()]
            if not items:
                continue
            try:
                outcomes = burst([functools.partial(fn, *args) for _, _, fn, args in items])
            except BaseException as exc:  # the burst runner itself failed: every call did
                outcomes = [(exc, None)] * len(items)
            for (inbox, fut, _, _), (error, value) in zip(items, outcomes, strict=True):
                if isinstance(error, StopIteration):  # a future cannot hold it (as in _settle)
                    wrapped = RuntimeError("offloaded call raised StopIteration")
                    wrapped.__cause__ = error
                    error = wrapped
                inbox.post(fut, error, value)
