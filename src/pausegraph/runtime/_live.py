"""Stream chunks that reach the caller while a step runs, not only between steps.

Most chunks report what a step did (its updates, values, checkpoints) and
wait for the step boundary, when what they report is stored. Two kinds are
reported as they happen, as in LangGraph: what a node sends through its
stream writer (``custom``), and what graphs it runs stream (``subgraphs=True``:
a nested run stores what it reports before reporting it). Those go to a
:class:`LiveChunks`; while a step of a run that has one runs, the sync driver
runs the step on a thread of its own (:func:`step_in_thread`), the async one
as a task of its own (:func:`step_in_task`), and each hands the chunks on as
they come.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any

__all__ = ["LiveChunks", "step_in_task", "step_in_thread"]


class LiveChunks(deque[tuple[str, Any]]):
    """A queue of ``(mode, chunk)`` that wakes the driver when a chunk arrives.

    Chunks may come from any thread: a sync node runs in a worker thread
    under ``astream``, parallel sync nodes in a pool.
    """

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.wake: Callable[[], None] | None = None  # the async driver's, while it waits
        # Run first in each step's own context (thread or task), e.g. to set a context
        # variable its nodes read and the caller must not see (see _tokens).
        self.enter: Callable[[], None] | None = None

    def append(self, chunk: tuple[str, Any]) -> None:
        super().append(chunk)
        self.arrived.set()
        wake = self.wake
        if wake is not None:
            wake()


def step_in_thread(run_step: Callable[[], None], live: LiveChunks) -> Iterator[tuple[str, Any]]:
    """Run ``run_step`` on a thread of its own; yield ``live``'s chunks until it ends.

    The step runs in a copy of the caller's context (as parallel tasks do). A
    caller that stops reading early waits for the step to end, so nothing of
    the run goes on behind its back; the step's exception, if any, is raised
    here, after the chunks sent before it.
    """
    failure: list[BaseException] = []
    finished = threading.Event()

    def target() -> None:
        try:
            if live.enter is not None:
                live.enter()
            run_step()
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)
        finally:
            finished.set()
            live.arrived.set()

    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(target,), name="pausegraph-step"
    )
    thread.start()
    try:
        while not finished.is_set():
            live.arrived.wait()
            live.arrived.clear()
            while live:
                yield live.popleft()
        while live:  # sent just before the step ended: before its failure, if it fails
            yield live.popleft()
    finally:
        thread.join()
    if failure:
        raise failure[0]


async def step_in_task(
    step: Awaitable[None], live: LiveChunks
) -> AsyncGenerator[tuple[str, Any], None]:
    """Async :func:`step_in_thread`: run ``step`` as a task of its own.

    A caller that stops reading, or whose task is cancelled, cancels the step
    (as cancelling the caller cancels a run) and waits for it to unwind.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    enter = live.enter
    if enter is None:
        task = asyncio.ensure_future(step)
    elif sys.version_info >= (3, 11):
        context = contextvars.copy_context()
        context.run(enter)
        task = loop.create_task(step, context=context)  # type: ignore[arg-type]
    else:  # pragma: no cover - Python 3.10
        task = asyncio.ensure_future(_entered(step, enter))
    event = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(event.set)

    live.wake = wake
    try:
        while not task.done():
            waiter = asyncio.ensure_future(event.wait())
            try:
                await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            event.clear()
            while live:
                yield live.popleft()
        while live:  # sent just before the step ended: before its failure, if it fails
            yield live.popleft()
    finally:
        live.wake = None
        if not task.done():
            task.cancel()
            await asyncio.wait((task,))
    task.result()


async def _entered(step: Awaitable[None], enter: Callable[[], None]) -> None:  # pragma: no cover
    enter()  # in this task's own context
    await step
