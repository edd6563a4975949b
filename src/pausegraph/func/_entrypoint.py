"""``@entrypoint``: a function run as a one-node graph, with every runtime feature.

The graph's state is free-form, with three keys: ``__start__`` (the input of
the current run), ``__end__`` (what the function returned) and
``__previous__`` (what the next run receives as ``previous``). Checkpoints,
interrupts, ``Command(resume=...)``, streaming, durability, leases and the
waiting index come from the graph runtime unchanged; this module only maps
inputs in and values out, so callers see the function's return value where a
graph would show its state, as LangGraph's functional API does.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from pausegraph.constants import END, START
from pausegraph.errors import GraphBuildError
from pausegraph.func._node import (
    Final,
    StreamWriter,
    entry_node,
    graph_input,
    is_new_input,
    register_types,
)
from pausegraph.func._shapes import END_KEY, PREVIOUS_KEY, Shaper, public_output, public_snapshot
from pausegraph.graph._builder import StateGraph
from pausegraph.graph._compiled import CompiledStateGraph
from pausegraph.types import StateSnapshot

if TYPE_CHECKING:
    from pausegraph.graph._draw import DrawableGraph
    from pausegraph.runtime._loop import RunLoop
    from pausegraph.types import RetryPolicy

__all__ = ["EntrypointGraph", "entrypoint"]


class entrypoint:
    """Turn a function into a workflow that can pause and resume: ``@entrypoint(checkpointer=...)``.

    The function takes one positional argument, the run's input, and may ask for
    ``previous`` (what the last run on the thread returned, or saved with
    :class:`entrypoint.final`), ``config`` and ``writer`` (emits ``custom``
    stream chunks) as keyword arguments. It may be ``async``. Inside it, call
    ``@task`` functions and ``interrupt()``.

    Args:
        checkpointer: A saver; needed for ``interrupt()``, ``previous`` and state reads.
        retry_policy: Retry the whole function when it raises.
        store: A long-term store (:mod:`pausegraph.store`) the function gets
            as its ``store`` parameter (or ``get_store()``).
        cache: Where results are cached (``InMemoryCache()``,
            :mod:`pausegraph.cache.memory`): the workflow's, with ``cache_policy``,
            and its tasks' that have one.
        cache_policy: Reuse the workflow's result for an input it has seen
            (``CachePolicy``; needs ``cache``).
        context_schema, timeout: Accepted for compatibility; unused.

    Example:
        >>> @entrypoint(checkpointer=InMemorySaver())
        ... def workflow(topic: str) -> str:
        ...     draft = write_draft(topic).result()
        ...     return interrupt({"review": draft})
    """

    final: TypeAlias = Final

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: Any = None,
        cache_policy: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        timeout: Any = None,
    ) -> None:
        if inspect.isfunction(checkpointer):
            raise GraphBuildError(
                f"@entrypoint needs parentheses: write @entrypoint() or "
                f"@entrypoint(checkpointer=...) above {checkpointer.__name__!r}."
            )
        self.checkpointer = checkpointer
        self.retry_policy = retry_policy
        self.store = store
        self.cache = cache
        self.cache_policy = cache_policy

    def __call__(self, func: Callable[..., Any]) -> EntrypointGraph:
        """Build the workflow graph around ``func``.

        Raises:
            GraphBuildError: ``func`` takes no argument for the input.
        """
        return EntrypointGraph.build(
            func, self.checkpointer, self.retry_policy, self.store, self.cache, self.cache_policy
        )


class EntrypointGraph(CompiledStateGraph):
    """What ``@entrypoint`` returns: a compiled one-node graph speaking in return values.

    ``invoke`` returns the function's return value (or, when paused, a dict
    with ``"__interrupt__"``, merged into the last returned value if that is a
    dict, as LangGraph does). ``get_state(...).values`` is the last returned
    value. Everything else is :class:`~pausegraph.graph.CompiledStateGraph`.
    """

    func: Callable[..., Any]

    @classmethod
    def build(
        cls,
        func: Callable[..., Any],
        checkpointer: Any,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        store: Any = None,
        cache: Any = None,
        cache_policy: Any = None,
    ) -> EntrypointGraph:
        """The graph running ``func`` (see :class:`entrypoint`)."""
        name = getattr(func, "__name__", None) or type(func).__name__
        if not inspect.signature(func).parameters:
            raise GraphBuildError(
                f"Entrypoint function {name!r} must have at least one parameter: the input "
                "of each run, e.g. `def workflow(inputs): ...`."
            )
        builder = StateGraph(dict)
        builder.add_node(
            name, entry_node(func, name), retry_policy=retry_policy, cache_policy=cache_policy
        )
        builder.add_edge(START, name)
        builder.add_edge(name, END)
        spec = dataclasses.replace(builder.validate(), name=name)
        builder.compiled = True
        graph = cls(
            spec,
            checkpointer=checkpointer,
            interrupt_before=None,
            interrupt_after=None,
            builder=builder,
            store=store,
            cache=cache,
        )
        graph.func = func
        if graph.checkpointer is not None:
            register_types(graph.checkpointer, func)
        return graph

    def __repr__(self) -> str:
        return f"<EntrypointGraph {self.name!r}>"

    def _writer(self, loop: RunLoop, modes: frozenset[str]) -> Any:
        return StreamWriter(loop.out, modes)

    # -- running -----------------------------------------------------------------

    def invoke(
        self,
        input: Any,
        config: Mapping[str, Any] | None = None,
        *,
        stream_mode: str = "values",
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        durability: Literal["sync", "async", "exit"] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the function until it returns or pauses.

        Args:
            input: The function's input; ``Command(resume=...)`` to answer an
                ``interrupt()``; ``None`` to continue a failed or paused run.

        Returns:
            What the function returned (the ``value`` of an :class:`entrypoint.final`).
            When paused: ``{"__interrupt__": [Interrupt(...)]}``.
        """
        if stream_mode != "values":
            return list(
                self.stream(input, config, stream_mode=stream_mode, durability=durability, **kwargs)
            )
        result = super().invoke(
            graph_input(input),
            config,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            **kwargs,
        )
        return public_output(result)

    async def ainvoke(
        self,
        input: Any,
        config: Mapping[str, Any] | None = None,
        *,
        stream_mode: str = "values",
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        durability: Literal["sync", "async", "exit"] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Async :meth:`invoke`."""
        if stream_mode != "values":
            return [
                c
                async for c in self.astream(
                    input, config, stream_mode=stream_mode, durability=durability, **kwargs
                )
            ]
        result = await super().ainvoke(
            graph_input(input),
            config,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            **kwargs,
        )
        return public_output(result)

    def stream(
        self,
        input: Any,
        config: Mapping[str, Any] | None = None,
        *,
        stream_mode: str | Sequence[str] | None = None,
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        durability: Literal["sync", "async", "exit"] | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run and yield chunks: ``updates`` are ``{task_name: result}`` per finished task
        call and ``{entrypoint_name: return value}`` at the end; ``values`` are return
        values; ``custom`` what the function writes; see :meth:`CompiledStateGraph.stream`.
        """
        modes, single = self._modes(stream_mode)
        shaper = Shaper(self.name, is_new_input(input), single, subgraphs)
        for item in super().stream(
            graph_input(input),
            config,
            stream_mode=sorted(modes),
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            subgraphs=subgraphs,
            **kwargs,
        ):
            yield from shaper(item)

    async def astream(
        self,
        input: Any,
        config: Mapping[str, Any] | None = None,
        *,
        stream_mode: str | Sequence[str] | None = None,
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        durability: Literal["sync", "async", "exit"] | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async :meth:`stream`."""
        modes, single = self._modes(stream_mode)
        shaper = Shaper(self.name, is_new_input(input), single, subgraphs)
        async for item in super().astream(
            graph_input(input),
            config,
            stream_mode=sorted(modes),
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            subgraphs=subgraphs,
            **kwargs,
        ):
            for chunk in shaper(item):
                yield chunk

    # -- state -----------------------------------------------------------------

    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> DrawableGraph:
        """The one-node picture, as LangGraph draws an entrypoint (its node first)."""
        from pausegraph.graph._draw import DrawableGraph, DrawEdge

        return DrawableGraph(
            nodes=(self.name, START, END),
            edges=(DrawEdge(START, self.name), DrawEdge(self.name, END, conditional=True)),
        )

    def get_state(self, config: Mapping[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state; ``values`` is the last returned value (``None`` before one)."""
        return public_snapshot(super().get_state(config, subgraphs=subgraphs), self.name)

    async def aget_state(
        self, config: Mapping[str, Any], *, subgraphs: bool = False
    ) -> StateSnapshot:
        """Async :meth:`get_state`."""
        return public_snapshot(await super().aget_state(config, subgraphs=subgraphs), self.name)

    def get_state_history(
        self,
        config: Mapping[str, Any],
        *,
        filter: Mapping[str, Any] | None = None,
        before: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first, with values as in :meth:`get_state`."""
        for state in super().get_state_history(config, filter=filter, before=before, limit=limit):
            yield public_snapshot(state, self.name)

    async def aget_state_history(
        self,
        config: Mapping[str, Any],
        *,
        filter: Mapping[str, Any] | None = None,
        before: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        """Async :meth:`get_state_history`."""
        async for state in super().aget_state_history(
            config, filter=filter, before=before, limit=limit
        ):
            yield public_snapshot(state, self.name)

    def _update_args(self, values: Any, as_node: str | None) -> tuple[Any, str | None]:
        """``update_state`` sets the last returned value (and so the next run's ``previous``)."""
        if values is None or as_node not in (None, self.name):
            return values, as_node
        return {END_KEY: values, PREVIOUS_KEY: values}, self.name
