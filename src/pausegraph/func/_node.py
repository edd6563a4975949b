"""The one node of an entrypoint graph: call the function, wait for its tasks, save.

The node reads the run's input and ``previous`` from the state, calls the
user's function with what it asks for, waits for every task it started (also
those it never waited for, as LangGraph's step does), and returns the writes
that keep the returned value and the value saved for ``previous``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pausegraph.func._calls import calls_for
from pausegraph.func._shapes import END_KEY, PREVIOUS_KEY, START_KEY
from pausegraph.runtime._context import TaskContext, current_task
from pausegraph.runtime._public import store_of
from pausegraph.types import Command

__all__ = ["Final", "StreamWriter", "entry_node", "graph_input", "is_new_input", "register_types"]

R = TypeVar("R")
S = TypeVar("S")

_INJECTABLE = ("previous", "config", "writer", "store")


@dataclasses.dataclass(frozen=True)
class Final(Generic[R, S]):
    """Return ``value`` to the caller and save ``save`` as the next run's ``previous``.

    Used as ``entrypoint.final(value=..., save=...)``.
    """

    value: R
    save: S


Final.__qualname__ = "entrypoint.final"  # its name where users meet it (and in its repr)


def entry_node(func: Callable[..., Any], name: str) -> Callable[..., Any]:
    """The graph node (sync or async, as ``func`` is) that runs ``func`` as entrypoint ``name``."""
    params = inspect.signature(func).parameters
    wants = tuple(n for n in _INJECTABLE if n in params)

    def arguments(state: Mapping[str, Any], config: Any, writer: Any) -> dict[str, Any]:
        given = {
            "previous": state.get(PREVIOUS_KEY),
            "config": config,
            "writer": writer,
            "store": store_of(config) if "store" in wants else None,
        }
        return {n: given[n] for n in wants}

    def node(state: dict[str, Any], *, config: Any, writer: Any) -> dict[str, Any]:
        calls = calls_for(_context(), is_async=False)
        try:
            out = func(state.get(START_KEY), **arguments(state, config, writer))
        except BaseException as exc:
            calls.close(exc)
            raise
        calls.close(None)
        return _writes(out)

    async def anode(state: dict[str, Any], *, config: Any, writer: Any) -> dict[str, Any]:
        calls = calls_for(_context(), is_async=True)
        try:
            out = await func(state.get(START_KEY), **arguments(state, config, writer))
        except BaseException as exc:
            await calls.aclose(exc)
            raise
        await calls.aclose(None)
        return _writes(out)

    chosen = anode if inspect.iscoroutinefunction(func) else node
    chosen.__name__ = chosen.__qualname__ = name
    return chosen


def _context() -> TaskContext:
    ctx = current_task.get()
    assert ctx is not None, "the runtime sets the task context around every node call"
    return ctx


def _writes(out: Any) -> dict[str, Any]:
    if isinstance(out, Final):
        return {END_KEY: out.value, PREVIOUS_KEY: out.save}
    return {END_KEY: out, PREVIOUS_KEY: out}


def graph_input(input: Any) -> Any:
    """The graph input for an entrypoint input (``None`` and commands pass through)."""
    if input is None or isinstance(input, Command):
        return input
    return {START_KEY: input}


def is_new_input(input: Any) -> bool:
    """Whether ``input`` starts a new run (rather than resuming or continuing one)."""
    return input is not None and not isinstance(input, Command)


class StreamWriter:
    """The stream writer of an entrypoint run: the function's ``custom`` chunks and task events.

    Calling it emits a ``custom`` chunk; :meth:`emit` is how task calls report
    their results (``updates``) and starts (``tasks``).
    """

    __slots__ = ("modes", "out")

    def __init__(self, out: Any, modes: frozenset[str]) -> None:
        self.out = out
        self.modes = modes

    def __call__(self, chunk: Any) -> None:
        if "custom" in self.modes:
            self.out.append(("custom", chunk))

    def emit(self, mode: str, chunk: Any) -> None:
        """Stream ``chunk`` in ``mode``, if the caller asked for that mode."""
        if mode in self.modes:
            self.out.append((mode, chunk))


def register_types(saver: Any, func: Callable[..., Any]) -> None:
    """Let ``saver`` store the types that ``func``'s input, ``previous`` and return name."""
    registry = getattr(getattr(saver, "serde", None), "registry", None)
    if registry is None:
        return
    import typing

    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable hints: such types must be registered by hand
        return
    params = list(inspect.signature(func).parameters)
    for key in (params[0], "previous", "return"):
        if key in hints:
            registry.register_annotation(hints[key])
