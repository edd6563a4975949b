"""Run a blocking call on a worker thread and await it: ``loop.run_in_executor``, cheaper.

``run_in_executor`` chains a ``concurrent.futures.Future`` to an asyncio one
and wakes the event loop once per finished call. Under load (a hundred runs
awaiting their sync nodes and SQLite saves at once) that machinery costs more
than the calls. :func:`offload` submits the call to the same executor, but
posts its outcome straight into a per-loop inbox: the first result of a batch
wakes the loop, the rest ride along, and the loop settles the whole batch in
one callback.

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

__all__ = ["Burst", "Lane", "Outcome", "offload"]

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
