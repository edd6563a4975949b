"""One ``@task`` call: what to call, how it runs (pool, event loop or inline), its outcome.

The call itself, with its retry policy, is written once as a generator of the
runtime's :class:`~pausegraph.runtime._tasks.Call` and
:class:`~pausegraph.runtime._tasks.Sleep` requests (:func:`call_flow`), and
run by the runtime's sync or async flow driver, as graph nodes are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from contextvars import copy_context
from typing import TYPE_CHECKING, Any

from pausegraph.runtime._context import TaskContext
from pausegraph.runtime._tasks import Call, Sleep

if TYPE_CHECKING:
    import asyncio

    from pausegraph.types import RetryPolicy

__all__ = ["CallSpec", "ChildTask", "Slot", "TaskFlow", "call_flow"]

TaskFlow = Generator["Call | Sleep", Any, None]


class CallSpec:
    """What to call: a task's function, its arguments and how to retry it."""

    __slots__ = ("args", "cached", "fn", "is_async", "kwargs", "name", "retry")

    def __init__(
        self,
        name: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        is_async: bool,
        retry: Sequence[RetryPolicy],
    ) -> None:
        self.name = name
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async
        self.retry = retry
        self.cached = False  # the result came from the task's cache (set by the call)


class ChildTask:
    """The ``task`` of a call's :class:`TaskContext`: names its interrupts and nested runs."""

    __slots__ = ("answer_nested", "id", "name")

    def __init__(self, id: str, name: str, answer_nested: bool = False) -> None:
        self.id = id
        self.name = name
        self.answer_nested = answer_nested


class Slot:
    """One task call: where it is journaled, how it runs, and (once settled) its outcome."""

    __slots__ = (
        "_claim",
        "_done",
        "_job",
        "entry",
        "error",
        "id",
        "index",
        "journaled",
        "name",
        "settled",
        "task",
        "value",
    )

    def __init__(self, name: str, id: str, index: int, entry: dict[str, Any]) -> None:
        self.name = name
        self.id = id
        self.index = index
        self.entry = entry
        self.journaled = False
        self.value: Any = None
        self.error: BaseException | None = None
        self.settled = False
        self.task: asyncio.Task[None] | None = None
        self._done = threading.Event()
        self._claim = threading.Lock()
        self._job: Callable[[], None] | None = None

    def finish(self, value: Any, error: BaseException | None) -> None:
        """Record the outcome and wake whoever waits for it."""
        self.value, self.error = value, error
        self.settled = True
        self._done.set()

    def outcome(self) -> Any:
        """The result, or raise what the call raised."""
        if self.error is not None:
            raise self.error
        return self.value

    # -- running ---------------------------------------------------------------

    def start(self, flow: TaskFlow, mode: str) -> None:
        """Run ``flow``: ``"pool"`` (thread pool), ``"async"`` (asyncio task) or ``"inline"``.

        A pool call that no worker has started when someone waits for it runs in
        the waiting thread instead (:meth:`wait`), so a busy pool cannot deadlock
        a node that waits for its calls.
        """
        if mode == "async":
            import asyncio

            from pausegraph.runtime._drivers_async import _run_flow_async

            self.task = asyncio.ensure_future(self._guard_async(_run_flow_async(flow)))
            return
        context = copy_context()
        from pausegraph.runtime._drivers import executor, run_flow_sync

        def job() -> None:
            try:
                context.run(run_flow_sync, flow)
            except BaseException as exc:  # never leave a waiter hanging
                if not self.settled:
                    self.finish(None, exc)

        self._job = job
        if mode == "inline":
            self._run_once()
        else:
            executor().submit(self._run_once)

    async def _guard_async(self, flow: Any) -> None:
        try:
            await flow
        except BaseException as exc:
            if not self.settled:
                self.finish(None, exc)
            raise

    def _run_once(self) -> None:
        with self._claim:
            job, self._job = self._job, None
        if job is not None:
            job()

    def wait(self, timeout: float | None = None) -> None:
        """Block until settled; a call no pool worker has started yet runs here instead.

        Raises:
            TimeoutError: It did not settle within ``timeout`` seconds.
        """
        self._run_once()
        if not self._done.wait(timeout):
            raise TimeoutError(f"Task {self.name!r} did not finish within {timeout} seconds.")


def call_flow(
    spec: CallSpec,
    context: Callable[[], TaskContext],
    settle: Callable[[TaskContext, Any, BaseException | None], None],
) -> TaskFlow:
    """Call ``spec`` with its retry policy, then ``settle(ctx, value, error)`` exactly once.

    Written once as a generator of :class:`Call` / :class:`Sleep`, run by the
    runtime's sync or async flow driver.
    """
    attempt = 0
    while True:
        attempt += 1
        ctx = context()
        try:
            value = yield Call(_apply, spec, {}, ctx, spec.is_async)
        except Exception as exc:
            policy = next((p for p in spec.retry if p.should_retry(exc)), None)
            if policy is not None and attempt < policy.max_attempts:
                yield Sleep(policy.delay(attempt))
                continue
            settle(ctx, None, exc)
            return
        except BaseException as exc:  # an interrupt: pauses, never retried
            settle(ctx, None, exc)
            return
        settle(ctx, value, None)
        return


def _apply(spec: CallSpec) -> Any:
    return spec.fn(*spec.args, **spec.kwargs)
