"""``CompiledStateGraph``: run a graph, read and change its threads."""

from __future__ import annotations

import functools
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import aclosing
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from pausegraph.constants import INTERRUPT, START
from pausegraph.errors import InvalidConfigError
from pausegraph.graph._batch import BatchAPI, merge_configs
from pausegraph.graph._config import (
    DEFAULT_RECURSION_LIMIT,
    address_of,
    checkpoint_metadata,
    recursion_limit_of,
)
from pausegraph.graph._describe import DescribeAPI
from pausegraph.graph._nested import NestedCall, Sink, nested_parent, own_memory
from pausegraph.graph._requests import Request
from pausegraph.graph._spec import GraphSpec
from pausegraph.graph._threads import ThreadStateAPI
from pausegraph.runtime._drivers import drive_sync
from pausegraph.runtime._loop import LIFECYCLE, RunLoop
from pausegraph.runtime._options import RunOptions
from pausegraph.runtime._public import CACHE_KEY, CONTEXT_KEY, STORE_KEY
from pausegraph.runtime._views import output_values, select_output, snapshot

if TYPE_CHECKING:
    from pausegraph.checkpoint.base import BaseCheckpointSaver
    from pausegraph.graph._builder import StateGraph

__all__ = ["CompiledStateGraph"]

_MODES = frozenset({"values", "updates", "debug", "custom", "messages", "checkpoints", "tasks"})
_DURABILITY = ("sync", "async", "exit")
_NO_MODES: frozenset[str] = frozenset()  # invoke() and ainvoke() stream nothing
_NO_CONFIG: Mapping[str, Any] = MappingProxyType({})


def _is_model(cls: Any) -> bool:
    """A dataclass or pydantic model: a dict context is turned into one."""
    return isinstance(cls, type) and (
        hasattr(cls, "__dataclass_fields__") or hasattr(cls, "model_fields")
    )


def _run_metadata(run_config: Mapping[str, Any], nested: NestedCall | None) -> dict[str, Any]:
    """The metadata of a run's checkpoints: the config's, and where a nested run sits."""
    metadata = checkpoint_metadata(run_config)
    if nested is not None and nested.parents:
        metadata["parents"] = dict(nested.parents)
    return metadata


def _check_output_keys(spec: GraphSpec, output_keys: str | Sequence[str]) -> None:
    keys = [output_keys] if isinstance(output_keys, str) else list(output_keys)
    unknown = [key for key in keys if key not in spec.channels]
    if unknown:
        raise InvalidConfigError(
            f"output_keys names {', '.join(map(repr, unknown))}, which the state does not have; "
            f"choose among {', '.join(map(repr, spec.channels))}."
        )


def _output_keys(
    spec: GraphSpec, output_keys: str | Sequence[str] | None
) -> str | tuple[str, ...] | None:
    """A stream's ``output_keys``, checked against the state (a str stays a str)."""
    if output_keys is None:
        return None
    _check_output_keys(spec, output_keys)
    return output_keys if isinstance(output_keys, str) else tuple(output_keys)


def _node_set(value: Any, label: str, nodes: Mapping[str, Any]) -> frozenset[str] | None:
    if value is None:
        return None
    if value == "*":
        return frozenset({"*"})
    if isinstance(value, str):
        value = [value]
    names = frozenset(value)
    unknown = [n for n in names if n not in nodes]
    if unknown:
        raise InvalidConfigError(
            f"{label} names {unknown[0]!r}, which is not a node; known nodes: "
            f"{', '.join(repr(n) for n in nodes)}."
        )
    return names


def _shape(mode: str, chunk: Any, single: bool, subgraphs: bool) -> Any:
    """A stream item as LangGraph yields it: ``chunk``, ``(mode, chunk)``, or with a namespace."""
    if mode == "__sub__":
        path, mode, chunk = chunk
    else:
        path = ()
    if subgraphs:
        return (path, chunk) if single else (path, mode, chunk)
    return chunk if single else (mode, chunk)


def _stream_tokens(loop: RunLoop) -> None:
    """Report the tokens of chat models ``loop``'s nodes call (nested runs' too), as they come."""
    from pausegraph.runtime._tokens import attach  # only runs streaming "messages" need it

    attach(loop)


def _checkpoint(stored: Any) -> Any:
    return stored.checkpoint if stored is not None else None


class _Invocation:
    """What ``invoke`` and ``ainvoke`` share around their drive loop.

    A nested call that already finished is answered without running
    (``answered``/``result``), and so, once :meth:`start` is given what it
    ended at, is a request whose idempotency key was seen; otherwise
    :meth:`start` makes ``loop`` ready to drive, and :meth:`finish` (or
    :meth:`afinish`) turns it into the result.
    """

    def __init__(self, graph: CompiledStateGraph, config: Mapping[str, Any] | None) -> None:
        self.graph = graph
        parent = nested_parent(config)
        self.nested = NestedCall(graph, parent, config) if parent is not None else None
        self.request = Request.of(graph.checkpointer, config) if self.nested is None else None
        # A nested call that finished in an earlier run of its parent.
        self.answered = self.nested is not None and self.nested.done
        self.result: Any = self.nested.result if self.nested is not None and self.answered else None

    def start(
        self,
        earlier: Any,
        inp: Any,
        config: Mapping[str, Any] | None,
        interrupt_before: Any,
        interrupt_after: Any,
        durability: str | None,
    ) -> None:
        """Get the run ready, or answer it with ``earlier`` (where its request's key ended)."""
        graph = self.graph
        if earlier is not None:
            self.answered, self.result = True, graph._replayed(earlier)
            return
        self.sink = self.nested.sink if self.nested is not None else None
        modes = self.sink.modes if self.sink is not None else _NO_MODES
        self.loop, self.run_config, self.saver = graph._prepare(
            inp, config, modes, interrupt_before, interrupt_after, durability, self.nested
        )
        if self.sink is not None:
            self.loop.sink = self.sink
        self.writer = graph._writer(self.loop, modes) if modes else _discard

    def finish(self) -> Any:
        """The run's result; records the idempotency key, pauses a nested run's parent."""
        if self.request is not None and self.loop.checkpoint is not None:
            self.request.remember(self.loop.checkpoint.id)
        return self._ended()

    async def afinish(self) -> Any:
        """Async :meth:`finish` (the key recorded with the saver's async methods)."""
        if self.request is not None and self.loop.checkpoint is not None:
            await self.request.aremember(self.loop.checkpoint.id)
        return self._ended()

    def _ended(self) -> Any:
        loop = self.loop
        result = self.graph._result(loop)
        return self.nested.finish(loop, result) if self.nested is not None else result


@functools.cache
def _async_drivers() -> tuple[_AsyncDriver, _AsyncRunner]:
    """``(drive_async, run_async)``: the async driver as a generator, and as a coroutine."""
    # Imported on first async use (asyncio costs more import time than pausegraph),
    # then cached: a function-level import costs ~5k instructions per call.
    from pausegraph.runtime._drivers_async import drive_async, run_async

    return drive_async, run_async


_AsyncDriver = Callable[
    [RunLoop, Any, dict[str, Any], Callable[[Any], None] | None],
    AsyncGenerator[tuple[str, Any], None],
]
_AsyncRunner = Callable[
    [RunLoop, Any, dict[str, Any], Callable[[Any], None] | None], Coroutine[Any, Any, None]
]


def _discard(chunk: Any) -> None:
    """The stream writer of runs that do not stream ``custom`` chunks."""


class CompiledStateGraph(ThreadStateAPI, BatchAPI, DescribeAPI):
    """A validated graph, ready to run. Made by :meth:`StateGraph.compile`.

    Attributes:
        checkpointer: The saver that persists threads (``None`` for none).
        builder: The :class:`StateGraph` it was compiled from.
        name: The graph's name.
    """

    def __init__(
        self,
        spec: GraphSpec,
        *,
        checkpointer: Any,
        interrupt_before: Sequence[str] | str | None,
        interrupt_after: Sequence[str] | str | None,
        builder: StateGraph,
        store: Any = None,
        cache: Any = None,
    ) -> None:
        self.spec = spec
        self.builder = builder
        self.cache = cache  # where nodes with a cache_policy keep their results
        # The long-term store its nodes (and the graphs they run) get; None: a
        # graph run inside a node uses its caller's.
        self.store = store
        self.name = spec.name
        self.checkpointer: BaseCheckpointSaver | None = (
            checkpointer if checkpointer not in (None, False, True) else None
        )
        # None: inherit the parent's checkpointer when invoked inside a node;
        # False: never persist; True or a saver: persist.
        self.persistence: bool | None = (
            checkpointer if checkpointer in (None, False, True) else True
        )
        self.interrupt_before_nodes = _node_set(interrupt_before, "interrupt_before", spec.nodes)
        self.interrupt_after_nodes = _node_set(interrupt_after, "interrupt_after", spec.nodes)
        if self.checkpointer is not None:
            self._register_types(self.checkpointer)

    def _register_types(self, saver: Any) -> None:
        registry = getattr(getattr(saver, "serde", None), "registry", None)
        if registry is None:
            return
        from pausegraph.types import Send

        registry.register(Send, "pausegraph.Send")
        for schema in {
            id(s): s for s in (self.spec.state, self.spec.input, self.spec.output)
        }.values():
            if schema.kind in ("dataclass", "pydantic"):
                registry.register(schema.cls)
            for annotation in schema.annotations.values():
                registry.register_annotation(annotation)
        for node in self.spec.nodes.values():
            for annotation in node.input.annotations.values():
                registry.register_annotation(annotation)

    def __repr__(self) -> str:
        return f"<CompiledStateGraph {self.name!r} nodes={list(self.spec.nodes)}>"

    @property
    def nodes(self) -> dict[str, Any]:
        """Node name to its callable (START included, as LangGraph lists it)."""
        out: dict[str, Any] = {START: None}
        out.update({name: node.fn for name, node in self.spec.nodes.items()})
        return out

    # -- running -----------------------------------------------------------------

    def _prepare(
        self,
        inp: Any,
        config: Mapping[str, Any] | None,
        modes: frozenset[str],
        interrupt_before: Any,
        interrupt_after: Any,
        durability: str | None,
        nested: NestedCall | None = None,
    ) -> tuple[RunLoop, dict[str, Any], Any]:
        if nested is not None:
            config = nested.config
        address = address_of(config)
        saver = nested.saver if nested is not None else self.checkpointer
        if saver is not None and address.thread_id is None:
            raise InvalidConfigError(
                "This graph has a checkpointer, so each run needs a thread_id: pass "
                "config={'configurable': {'thread_id': '...'}}."
            )
        if not durability:
            durability = "sync"
        elif durability not in _DURABILITY:
            raise InvalidConfigError(
                f"durability must be one of {', '.join(map(repr, _DURABILITY))}, got {durability!r}."
            )
        # The graph's own breakpoints, nested or not, unless the call names some.
        before = (
            _node_set(interrupt_before, "interrupt_before", self.spec.nodes)
            if interrupt_before is not None
            else self.interrupt_before_nodes
        )
        after = (
            _node_set(interrupt_after, "interrupt_after", self.spec.nodes)
            if interrupt_after is not None
            else self.interrupt_after_nodes
        )
        run_config = dict(config) if config else {}
        if address.thread_id is not None:  # nodes (and graphs they invoke) see where they run
            run_config["configurable"] = {
                **(run_config.get("configurable") or _NO_CONFIG),
                "thread_id": address.thread_id,
                "checkpoint_ns": address.ns,
            }
        # Positional, in RunOptions' order: on 3.11 a class called with keywords
        # builds a dict for __init__, which doubles the cost of making it.
        opts = RunOptions(
            run_config,  # config
            address.thread_id,
            address.ns,
            address.checkpoint_id,
            modes,
            before,  # interrupt_before
            after,  # interrupt_after
            durability,
            (  # recursion_limit
                recursion_limit_of(config)
                if config and "recursion_limit" in config
                else DEFAULT_RECURSION_LIMIT
            ),
            _run_metadata(run_config, nested),  # metadata
            nested.answer if nested is not None else None,  # nested_answer
        )
        loop = RunLoop(self.spec, saver, inp, opts)
        if nested is not None and not own_memory(self):
            loop.per_task = True
        if self.cache is not None:
            loop.use_cache(self.cache)
        return loop, run_config, saver

    @staticmethod
    def _modes(stream_mode: Any) -> tuple[frozenset[str], bool]:
        if stream_mode is None:
            stream_mode = "updates"
        single = isinstance(stream_mode, str)
        modes = frozenset([stream_mode] if single else stream_mode)
        unknown = sorted(modes - _MODES)
        if unknown:
            raise InvalidConfigError(
                f"Unknown stream_mode {unknown[0]!r}; use one of {', '.join(sorted(_MODES))}."
            )
        return modes, single

    def _writer(self, loop: RunLoop, modes: frozenset[str]) -> Any:
        if "custom" not in modes:
            return _discard
        out = loop.live_chunks()  # reported as the node sends them

        def write(chunk: Any) -> None:
            out.append(("custom", chunk))

        return write

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
        """Run the graph and yield what ``stream_mode`` asks for as it happens.

        Args:
            input: A dict of state values to start a run, ``None`` to continue a
                paused or failed run, or a ``Command`` to resume one.
            config: ``{"configurable": {"thread_id": ...}, "recursion_limit": ...}``.
            stream_mode: ``"values"``, ``"updates"`` (default), ``"debug"``,
                ``"custom"``, ``"tasks"``, ``"checkpoints"``, or a list of them
                (then chunks come as ``(mode, chunk)`` pairs).
            output_keys: Only these state keys in ``values`` and ``updates``
                chunks (a str: that key's bare value); a step that wrote none
                of them sends no ``values`` chunk.
            interrupt_before / interrupt_after: Breakpoints for this run only.
            durability: ``"sync"`` (default: each checkpoint is written before
                the next step starts), ``"async"`` or ``"exit"`` (only when the run stops).

        Raises:
            InvalidConfigError, EmptyInputError, GraphRecursionError,
            InvalidUpdateError, ResumeError: see :mod:`pausegraph.errors`.
        """
        config = self._call_config(config, kwargs)
        modes, single = self._modes(stream_mode)
        keys = _output_keys(self.spec, output_keys)
        parent = nested_parent(config)
        nested = NestedCall(self, parent, config) if parent is not None else None
        request = Request.of(self.checkpointer, config) if nested is None else None
        earlier = request.recall() if request is not None else None
        if earlier is not None:
            yield from self._replay(earlier, modes, single, subgraphs, keys)
            return
        loop, run_config, saver = self._prepare(
            input, config, modes, interrupt_before, interrupt_after, durability, nested
        )
        loop.output_keys = keys
        if subgraphs:
            loop.sink = Sink(loop.live_chunks(), modes)
        if "messages" in modes and nested is None:
            _stream_tokens(loop)
        for mode, chunk in drive_sync(loop, saver, run_config, self._writer(loop, modes)):
            yield _shape(mode, chunk, single, subgraphs)
        if nested is not None:
            nested.finish(loop, None)
        if request is not None and loop.checkpoint is not None:
            request.remember(loop.checkpoint.id)

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
        """Async :meth:`stream`: async nodes are awaited, sync nodes run in threads."""
        config = self._call_config(config, kwargs)
        modes, single = self._modes(stream_mode)
        keys = _output_keys(self.spec, output_keys)
        run = self._astream(
            input,
            config,
            modes,
            single,
            keys,
            interrupt_before,
            interrupt_after,
            durability,
            subgraphs,
        )
        async with aclosing(run):
            async for shaped in run:
                yield shaped

    async def _astream(
        self,
        input: Any,
        config: Mapping[str, Any] | None,
        modes: frozenset[str],
        single: bool,
        keys: str | tuple[str, ...] | None,
        interrupt_before: Sequence[str] | str | None,
        interrupt_after: Sequence[str] | str | None,
        durability: Literal["sync", "async", "exit"] | None,
        subgraphs: bool,
        on_loop: Callable[[RunLoop], None] | None = None,
    ) -> AsyncGenerator[Any, None]:
        """:meth:`astream` with its arguments checked; ``on_loop`` gets the run before it starts."""
        parent = nested_parent(config)
        nested = NestedCall(self, parent, config) if parent is not None else None
        request = Request.of(self.checkpointer, config) if nested is None else None
        earlier = await request.arecall() if request is not None else None
        if earlier is not None:
            for shaped in self._replay(earlier, modes, single, subgraphs, keys):
                yield shaped
            return
        loop, run_config, saver = self._prepare(
            input, config, modes, interrupt_before, interrupt_after, durability, nested
        )
        loop.output_keys = keys
        drive_async = _async_drivers()[0]

        if subgraphs:
            loop.sink = Sink(loop.live_chunks(), modes)
        if "messages" in modes and nested is None:
            _stream_tokens(loop)
        if on_loop is not None:
            on_loop(loop)
        # Closed with this stream: a caller that stops reading ends the run now.
        async with aclosing(drive_async(loop, saver, run_config, self._writer(loop, modes))) as run:
            async for mode, chunk in run:
                yield _shape(mode, chunk, single, subgraphs)
        if nested is not None:
            nested.finish(loop, None)
        if request is not None and loop.checkpoint is not None:
            await request.aremember(loop.checkpoint.id)

    async def astream_events(
        self,
        input: Any,
        config: Mapping[str, Any] | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        durability: Literal["sync", "async", "exit"] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Run the graph and yield LangChain's v2 stream events, as LangGraph does.

        ``on_chain_start`` / ``_stream`` / ``_end`` for the graph and each node
        that runs (nodes of subgraphs included), and, with ``langchain-core``,
        ``on_chat_model_start`` / ``_stream`` / ``_end`` for the chat models
        nodes call (one ``_stream`` event per token). ``include_*`` /
        ``exclude_*`` keep or drop events by name, type (``chain``,
        ``chat_model``) or tag. See :mod:`pausegraph.graph._stream_events`.

        Raises:
            InvalidConfigError: ``version`` is not ``"v2"``; and what
                :meth:`stream` raises.
        """
        from pausegraph.graph._stream_events import EventFilter, stream_events

        config = self._call_config(config, kwargs)
        modes = frozenset({"updates", "values", LIFECYCLE})

        def chunks(on_loop: Callable[[RunLoop], None]) -> AsyncGenerator[Any, None]:
            return self._astream(
                input,
                config,
                modes,
                False,  # single
                None,  # output keys
                interrupt_before,
                interrupt_after,
                durability,
                True,  # subgraphs
                on_loop,
            )

        keep = EventFilter(
            include_names, include_types, include_tags, exclude_names, exclude_types, exclude_tags
        )
        events = stream_events(self, input, config, chunks, version=version, keep=keep)
        async with aclosing(events):
            async for event in events:
                yield event

    def _replayed(self, stored: Any) -> dict[str, Any]:
        """The result a request with an already-seen idempotency key got: its end state."""
        state = snapshot(self.spec, stored.checkpoint, stored.writes, live=True)
        result = output_values(self.spec, state.values)
        if state.interrupts:
            result[INTERRUPT] = list(state.interrupts)
        return result

    def _replay(
        self,
        stored: Any,
        modes: frozenset[str],
        single: bool,
        subgraphs: bool,
        keys: str | tuple[str, ...] | None = None,
    ) -> list[Any]:
        """What a stream whose idempotency key was seen yields instead of running.

        That is how the earlier run ended (``stored``): its end state as one
        ``values`` chunk and the interrupts it paused on as one ``updates``
        chunk (``{"__interrupt__": (...)}``), for the modes asked; the steps
        themselves are not replayed.
        """
        state = snapshot(self.spec, stored.checkpoint, stored.writes, live=True)
        chunks: list[tuple[str, Any]] = []
        if "values" in modes:
            chunks.append(("values", select_output(output_values(self.spec, state.values), keys)))
        if "updates" in modes and state.interrupts:
            chunks.append(("updates", {INTERRUPT: tuple(state.interrupts)}))
        return [_shape(mode, chunk, single, subgraphs) for mode, chunk in chunks]

    def _result(self, loop: RunLoop) -> dict[str, Any]:
        result = dict(loop.values)
        if loop.interrupts:
            result[INTERRUPT] = list(loop.interrupts)
        return result

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
        """Run the graph until it ends or pauses; return the final state.

        Returns:
            The state's values (output schema keys). When the run paused on
            ``interrupt()``, the result also has ``"__interrupt__"``: a list of
            :class:`~pausegraph.types.Interrupt` to show the person. With
            ``output_keys``, only those keys (a str: that key's bare value).

        Raises:
            See :meth:`stream`.
        """
        if output_keys is not None:
            _check_output_keys(self.spec, output_keys)
        config = self._call_config(config, kwargs)
        if stream_mode != "values":
            return list(
                self.stream(
                    input,
                    config,
                    stream_mode=stream_mode,
                    output_keys=output_keys,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    durability=durability,
                )
            )
        call = _Invocation(self, config)
        if not call.answered:
            earlier = call.request.recall() if call.request is not None else None
            call.start(earlier, input, config, interrupt_before, interrupt_after, durability)
        if call.answered:
            return select_output(call.result, output_keys)
        loop = call.loop
        if call.sink is None:
            for _ in drive_sync(loop, call.saver, call.run_config, _discard):
                pass
        else:  # the caller streams subgraphs: pass this run's chunks up
            for mode, chunk in drive_sync(loop, call.saver, call.run_config, call.writer):
                call.sink.emit(mode, chunk)
        return select_output(call.finish(), output_keys)

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
        if output_keys is not None:
            _check_output_keys(self.spec, output_keys)
        config = self._call_config(config, kwargs)
        if stream_mode != "values":
            return [
                chunk
                async for chunk in self.astream(
                    input,
                    config,
                    stream_mode=stream_mode,
                    output_keys=output_keys,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    durability=durability,
                )
            ]
        call = _Invocation(self, config)
        if not call.answered:
            earlier = await call.request.arecall() if call.request is not None else None
            call.start(earlier, input, config, interrupt_before, interrupt_after, durability)
        if call.answered:
            return select_output(call.result, output_keys)
        drive_async, run_async = _async_drivers()
        loop = call.loop
        if call.sink is None:  # nothing streams (no live chunks either): a plain coroutine
            await run_async(loop, call.saver, call.run_config, _discard)
        else:
            async for mode, chunk in drive_async(loop, call.saver, call.run_config, call.writer):
                call.sink.emit(mode, chunk)
        return select_output(await call.afinish(), output_keys)

    def _call_config(
        self, config: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """The config a run method runs with: ``with_config``'s merged in, ``context=`` and the store added."""
        if self.bound_config is not None:  # with_config(...)
            config = merge_configs(self.bound_config, config)
        if "context" in kwargs:  # LangGraph 1.x: nodes read it from their Runtime
            config = self._with_context(config, kwargs["context"])
        if self.store is not None:
            config = self._carrying(config, STORE_KEY, self.store)
        if self.cache is not None:  # for the @task calls of an entrypoint
            config = self._carrying(config, CACHE_KEY, self.cache)
        return config

    @staticmethod
    def _carrying(config: Mapping[str, Any] | None, key: str, value: Any) -> Mapping[str, Any]:
        """``config`` carrying ``value`` under ``key``, unless it carries one already (its caller's)."""
        conf = (config or {}).get("configurable") or {}
        if key in conf:
            return config or {}
        out = dict(config or {})
        out["configurable"] = {**conf, key: value}
        return out

    def _with_context(self, config: Mapping[str, Any] | None, context: Any) -> dict[str, Any]:
        """``config`` carrying the run's ``context`` (a dict is made the context schema)."""
        schema = getattr(self.builder, "context_schema", None)
        if isinstance(context, Mapping) and schema is not None and _is_model(schema):
            context = schema(**context)
        out = dict(config or {})
        out["configurable"] = {**(out.get("configurable") or {}), CONTEXT_KEY: context}
        return out

    # -- composition -------------------------------------------------------------

    def _as_node(self, parent_keys: frozenset[str] | None = None) -> Any:
        """A node function running this graph as a nested run of the parent.

        It receives the parent's state and returns this graph's output keys
        that the parent also has (keys only this graph knows stay inside it).
        """
        graph = self
        own_keys = frozenset(self.spec.input.keys)

        def run_subgraph(state: Any) -> Any:
            if isinstance(state, Mapping) and own_keys:
                state = {k: v for k, v in state.items() if k in own_keys}
            result = graph.invoke(state)
            if parent_keys is None or not isinstance(result, Mapping):
                return result
            return {k: v for k, v in result.items() if k in parent_keys}

        async def arun_subgraph(state: Any) -> Any:
            if isinstance(state, Mapping) and own_keys:
                state = {k: v for k, v in state.items() if k in own_keys}
            result = await graph.ainvoke(state)
            if parent_keys is None or not isinstance(result, Mapping):
                return result
            return {k: v for k, v in result.items() if k in parent_keys}

        run_subgraph.__name__ = arun_subgraph.__name__ = self.name
        return arun_subgraph if self._has_async_nodes() else run_subgraph

    def _has_async_nodes(self) -> bool:
        return any(n.is_async for n in self.spec.nodes.values()) or any(
            b.is_async for bs in self.spec.branches.values() for b in bs
        )
