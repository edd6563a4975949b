"""``@task``: a function whose calls inside an entrypoint run in parallel and are saved."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypeVar, overload

from pausegraph.errors import InvalidConfigError, OutsideNodeError
from pausegraph.func._calls import calls_for, emit, loop_running
from pausegraph.func._slot import CallSpec, ChildTask, Slot, call_flow
from pausegraph.runtime._context import TaskContext, current_task
from pausegraph.runtime._public import CACHE_KEY

if TYPE_CHECKING:
    from pausegraph.types import RetryPolicy

__all__ = ["TaskFunction", "TaskFuture", "task"]

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class TaskFuture(Generic[T]):
    """The pending result of one ``@task`` call.

    Call :meth:`result` in a sync entrypoint, or ``await`` it in an async one.
    A call that raised raises the same exception here; a call that paused on
    ``interrupt()`` pauses the entrypoint that waits for it.
    """

    __slots__ = ("_slot",)

    def __init__(self, slot: Slot) -> None:
        self._slot = slot

    def __repr__(self) -> str:
        state = "finished" if self._slot.settled else "running"
        return f"<TaskFuture {self._slot.name!r} {state}>"

    def done(self) -> bool:
        """Whether the call has finished (returned, raised or paused)."""
        return self._slot.settled

    def result(self, timeout: float | None = None) -> T:
        """Wait for the call and return its result.

        Raises:
            InvalidConfigError: The call runs on the event loop and has not
                finished: ``await`` it instead.
            TimeoutError: It did not finish within ``timeout`` seconds.
            Exception: Whatever the task raised.
        """
        self._wait(timeout)
        return self._slot.outcome()  # type: ignore[no-any-return]

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Wait for the call; return what it raised, or ``None`` if it returned.

        Raises:
            InvalidConfigError, TimeoutError: As :meth:`result`.
        """
        self._wait(timeout)
        return self._slot.error

    def _wait(self, timeout: float | None) -> None:
        slot = self._slot
        if slot.settled:
            return
        if slot.task is not None:
            raise InvalidConfigError(
                f"Task {slot.name!r} runs on the event loop and has not finished, so "
                ".result() cannot wait for it: use `await` on the call in an async "
                "entrypoint or task."
            )
        slot.wait(timeout)

    def __await__(self) -> Generator[Any, None, T]:
        slot = self._slot
        if not slot.settled:
            if slot.task is not None:
                yield from slot.task.__await__()
            else:
                import asyncio

                from pausegraph.runtime._drivers import executor

                loop = asyncio.get_running_loop()
                yield from loop.run_in_executor(executor(), slot.wait).__await__()
        return slot.outcome()  # type: ignore[no-any-return]


class TaskFunction(Generic[P, T]):
    """A function decorated with ``@task``.

    Calling it inside an ``@entrypoint`` (or a graph node, or another task)
    starts it and returns a :class:`TaskFuture` at once. Outside a run it
    raises :class:`~pausegraph.errors.OutsideNodeError`; the plain function is
    :attr:`func`.

    Attributes:
        func: The decorated function.
        name: The task's name in stream updates (the function's name unless given).
        retry_policy: As given to ``@task``.
    """

    __name__: str

    def __init__(
        self,
        func: Callable[P, Awaitable[T]] | Callable[P, T],
        *,
        name: str | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: Any = None,
    ) -> None:
        self.func = func
        self.name: str = name or str(getattr(func, "__name__", type(func).__name__))
        self.retry_policy = retry_policy
        self.cache_policy = cache_policy
        self._retry = _policies(retry_policy)
        self._is_async = inspect.iscoroutinefunction(func)
        self._result_type: Any = _UNSET
        functools.update_wrapper(self, func)
        self.__name__ = self.name

    def __repr__(self) -> str:
        return f"<task {self.name!r}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> TaskFuture[T]:
        ctx = current_task.get()
        if ctx is None:
            raise OutsideNodeError(
                f"Task {self.name!r} was called outside a running workflow. Call tasks inside "
                "an @entrypoint function, another task or a graph node; to run the plain "
                f"function, call {self.name}.func(...)."
            )
        spec = CallSpec(self.name, self.func, args, kwargs, self._is_async, self._retry)
        if self.cache_policy is not None:
            cache = ((ctx.config or {}).get("configurable") or {}).get(CACHE_KEY)
            if cache is not None:
                spec.fn = _cached(spec, self.cache_policy, cache)
        if ctx.saver is not None:
            self._register_result_type(ctx.saver)
        if isinstance(ctx.task, ChildTask):
            return TaskFuture(_call_inside_task(spec, ctx))
        calls = calls_for(ctx)
        if self._is_async and not calls.is_async:
            raise InvalidConfigError(
                f"Task {self.name!r} is an async function, but it was called from a sync "
                "entrypoint or node, which cannot await it. Make the entrypoint async and "
                f"`await {self.name}(...)`, or make the task a plain function."
            )
        return TaskFuture(calls.call(spec))

    def _register_result_type(self, saver: Any) -> None:
        """Let ``saver`` store the types the function's return annotation names."""
        registry = getattr(getattr(saver, "serde", None), "registry", None)
        if registry is None:
            return
        if self._result_type is _UNSET:
            import typing

            try:
                self._result_type = typing.get_type_hints(self.func).get("return")
            except Exception:  # unresolvable hints: such types must be registered by hand
                self._result_type = None
        if self._result_type is not None:
            registry.register_annotation(self._result_type)


_UNSET: Any = object()


def _policies(given: RetryPolicy | Sequence[RetryPolicy] | None) -> tuple[RetryPolicy, ...]:
    from pausegraph.types import RetryPolicy

    if given is None:
        return ()
    if isinstance(given, RetryPolicy):  # a NamedTuple, so a Sequence too
        return (given,)
    return tuple(given)


def _call_inside_task(spec: CallSpec, ctx: TaskContext) -> Slot:
    """A task called by a task: runs as part of the caller (saved with its result)."""
    slot = Slot(spec.name, "", -1, {})
    on_loop = loop_running()
    if spec.is_async and not on_loop:
        raise InvalidConfigError(
            f"Task {spec.name!r} is an async function, but it was called from a sync task, "
            "which cannot await it. Make the calling task async, or this one a plain function."
        )

    def settle(_ctx: TaskContext, value: Any, error: BaseException | None) -> None:
        if error is None:
            emit(ctx, "updates", {spec.name: value})
        slot.finish(value, error)

    slot.start(call_flow(spec, lambda: ctx, settle), "async" if on_loop else "inline")
    return slot


class _TaskDecorator(Protocol):
    @overload
    def __call__(self, func: Callable[P, Awaitable[T_co]], /) -> TaskFunction[P, T_co]: ...
    @overload
    def __call__(self, func: Callable[P, T_co], /) -> TaskFunction[P, T_co]: ...


@overload
def task(func: Callable[P, Awaitable[T]], /) -> TaskFunction[P, T]: ...
@overload
def task(func: Callable[P, T], /) -> TaskFunction[P, T]: ...
@overload
def task(
    func: None = None,
    /,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: Any = None,
    timeout: Any = None,
) -> _TaskDecorator: ...
def task(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: Any = None,
    timeout: Any = None,
) -> Any:
    """Make a function a task: ``@task`` or ``@task(name=..., retry_policy=...)``.

    Inside an ``@entrypoint``, calling the task starts it (in a thread, or as
    an asyncio task for async entrypoints) and returns a :class:`TaskFuture`;
    several calls run in parallel. Each result is saved with the entrypoint's
    run in call order, so when the entrypoint runs again after an
    ``interrupt()``, finished calls return their saved result instead of
    running again. An ``interrupt()`` inside a task pauses the whole entrypoint;
    on resume the task runs again and its ``interrupt()`` returns the answer.

    Args:
        func: The function (sync or async); its result must be storable by the saver.
        name: The task's name in stream updates (default: the function's name).
        retry_policy: Retry the call when it raises (one policy or several, tried in order).
        cache_policy: Reuse the result of an earlier call with the same arguments
            (``CachePolicy``; the entrypoint needs ``cache=InMemoryCache()``).
        timeout: Accepted for compatibility; unused.

    Returns:
        A :class:`TaskFunction` (or, without ``func``, a decorator making one).
    """

    def make(fn: Callable[..., Any]) -> TaskFunction[Any, Any]:
        return TaskFunction(fn, name=name, retry_policy=retry_policy, cache_policy=cache_policy)

    return make(func) if func is not None else make


def _cached(spec: CallSpec, policy: Any, cache: Any) -> Callable[..., Any]:
    """``spec``'s function answering from ``cache`` when it holds a result for these arguments.

    Keyed by the task's name and ``policy.key_func`` of ``(args, kwargs)``;
    only returned values are saved (a call that raises or pauses runs again).
    A hit marks ``spec.cached``, so the update says so.
    """
    fn = spec.fn
    key = (("tasks", spec.name), str(policy.key_func((spec.args, spec.kwargs))))

    def sync(*a: Any, **k: Any) -> Any:
        found = cache.get([key])
        if key in found:
            spec.cached = True
            return found[key]
        value = fn(*a, **k)
        cache.set({key: (value, policy.ttl)})
        return value

    async def asynchronous(*a: Any, **k: Any) -> Any:
        found = await cache.aget([key])
        if key in found:
            spec.cached = True
            return found[key]
        value = await fn(*a, **k)
        await cache.aset({key: (value, policy.ttl)})
        return value

    return asynchronous if spec.is_async else sync
