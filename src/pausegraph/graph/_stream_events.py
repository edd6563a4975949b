"""``astream_events(version="v2")``: a run as LangChain's stream events, as LangGraph reports it.

Events come from what the run streams anyway. The graph starts
(``on_chain_start``, named after the graph); each node that runs starts,
streams what it returned and ends (``on_chain_*``, named after the node, tagged
``graph:step:N``, with LangGraph's ``langgraph_*`` metadata); after each node
the graph streams its update (``on_chain_stream``, ``{node: update}`` or
``{"__interrupt__": ...}``); the graph ends with its values. A node that
pauses or fails has no end event. Nodes of subgraphs report too, under their
parent node. With ``langchain-core``, chat models that nodes call report
``on_chat_model_start`` / ``_stream`` (each token) / ``_end`` while the node
runs, through a callback handler attached as for ``stream_mode="messages"``.

Every event has a ``run_id`` (the graph's is random; a node's is derived from
its task id, so the model handler names the same parent) and ``parent_ids``
from the graph down to its immediate parent.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pausegraph.constants import INTERRUPT
from pausegraph.errors import InvalidConfigError
from pausegraph.runtime._context import current_task
from pausegraph.runtime._loop import LIFECYCLE
from pausegraph.runtime._message_chunks import chunk_metadata
from pausegraph.runtime._tokens import StreamingHandler, attach_handler, langchain_handler

if TYPE_CHECKING:
    from pausegraph.graph._compiled import CompiledStateGraph
    from pausegraph.runtime._loop import RunLoop
    from pausegraph.runtime._planner import Task

__all__ = ["EventFilter", "stream_events"]


class EventFilter:
    """LangChain's ``include_*`` / ``exclude_*`` arguments of ``astream_events``.

    An event passes when no ``include_*`` is given or it matches one of them
    (by name, type ``chain``/``chat_model``, or tag), and it matches no ``exclude_*``.
    """

    def __init__(
        self,
        include_names: Iterable[str] | None = None,
        include_types: Iterable[str] | None = None,
        include_tags: Iterable[str] | None = None,
        exclude_names: Iterable[str] | None = None,
        exclude_types: Iterable[str] | None = None,
        exclude_tags: Iterable[str] | None = None,
    ) -> None:
        self.include = (set(include_names or ()), set(include_types or ()), set(include_tags or ()))
        self.exclude = (set(exclude_names or ()), set(exclude_types or ()), set(exclude_tags or ()))

    def passes(self, event: Mapping[str, Any]) -> bool:
        name, kind = event["name"], event["event"].split("_")[1]
        kind = "chat_model" if kind == "chat" else kind
        tags = set(event["tags"])

        def hit(names: set[str], kinds: set[str], wanted_tags: set[str]) -> bool:
            return name in names or kind in kinds or bool(tags & wanted_tags)

        if any(self.include) and not hit(*self.include):
            return False
        return not hit(*self.exclude)


async def stream_events(
    graph: CompiledStateGraph,
    input: Any,
    config: Mapping[str, Any] | None,
    chunks: Callable[[Callable[[RunLoop], None]], AsyncGenerator[Any, None]],
    *,
    version: str,
    keep: EventFilter,
) -> AsyncGenerator[dict[str, Any], None]:
    """The events of one run, in LangGraph's order.

    Args:
        chunks: Starts the run streaming ``updates``, ``values`` and
            ``LIFECYCLE`` with ``subgraphs=True``; called with a hook that gets the run's
            loop before it starts (to attach the chat model handler).
    """
    if version != "v2":
        raise InvalidConfigError(
            f"astream_events supports version='v2' (LangChain's current schema), not {version!r}."
        )
    events = _Translator(graph.name, config or {})
    for event in events.start(input):
        if keep.passes(event):
            yield event
    run = chunks(events.attach)
    async with aclosing(run):  # a caller that stops reading ends the run now
        async for ns, mode, chunk in run:
            for event in events.feed(ns, mode, chunk):
                if keep.passes(event):
                    yield event
    for event in events.end():
        if keep.passes(event):
            yield event


class _Translator:
    """Turns a run's stream chunks into events; keeps what an event needs from earlier ones."""

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        self.name = name
        self.root = uuid.uuid4()
        self.metadata = _run_metadata(config)
        self.tags = list(config.get("tags") or ())
        self.nodes: dict[str, dict[str, Any]] = {}  # task id -> its start event (for the end)
        self.held: list[dict[str, Any]] = []  # the graph's updates, after the node's end
        self.values: Any = None

    def node_run(self, task_id: str) -> str:
        """A node's run id: derived from its task id, so the model handler names it too."""
        return str(uuid.uuid5(self.root, task_id))

    def parents(self, ns: Iterable[str]) -> list[str]:
        """The run ids from the graph down to the node a namespace ends at."""
        return [str(self.root), *(self.node_run(part.rsplit(":", 1)[-1]) for part in ns if part)]

    def start(self, input: Any) -> list[dict[str, Any]]:
        return [self._graph("on_chain_start", {"input": input})]

    def end(self) -> list[dict[str, Any]]:
        out, self.held = self.held, []
        out.append(self._graph("on_chain_end", {"output": self.values}))
        return out

    def _graph(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "event": kind,
            "data": data,
            "name": self.name,
            "tags": list(self.tags),
            "run_id": str(self.root),
            "metadata": dict(self.metadata),
            "parent_ids": [],
        }

    def feed(self, ns: tuple[str, ...], mode: str, chunk: Any) -> list[dict[str, Any]]:
        if mode == "events":  # a chat model's, sent while its node runs
            return [chunk]
        if mode == "values":
            if not ns:
                self.values = {k: v for k, v in chunk.items() if k != INTERRUPT}
            return []
        if mode == "updates":
            if not ns:  # after the node's own end event, as in LangGraph
                self.held.append(self._graph("on_chain_stream", {"chunk": chunk}))
            return []
        if mode != LIFECYCLE:
            return []
        kind, step, task, payload = chunk
        out: list[dict[str, Any]] = []
        if kind == "task":
            out, self.held = self.held, []
            out.append(self._node_start(ns, step, task, payload))
        else:  # "task_result": a node that paused or failed has no end
            started = self.nodes.pop(task.id, None)
            if started is not None and payload["error"] is None and not payload["interrupts"]:
                out += self._node_end(started, task.output)
            out += self.held
            self.held = []
        return out

    def _node_start(
        self, ns: tuple[str, ...], step: int, task: Task, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        metadata = dict(self.metadata)
        metadata.update(
            langgraph_step=step,
            langgraph_node=task.name,
            langgraph_triggers=tuple(payload.get("triggers") or ()),
            langgraph_path=task.path,
            langgraph_checkpoint_ns="|".join([*ns, f"{task.name}:{task.id}"]),
        )
        event = {
            "event": "on_chain_start",
            "data": {"input": payload.get("input")},
            "name": task.name,
            "tags": [f"graph:step:{step}", *self.tags],
            "run_id": self.node_run(task.id),
            "metadata": metadata,
            "parent_ids": self.parents(ns),
        }
        self.nodes[task.id] = event
        return event

    def _node_end(self, started: dict[str, Any], output: Any) -> list[dict[str, Any]]:
        end = {"output": output, **started["data"]}
        return [
            {"event": "on_chain_stream", "data": {"chunk": output}, **_about(started)},
            {"event": "on_chain_end", "data": end, **_about(started)},
        ]

    # -- chat models ---------------------------------------------------------

    def attach(self, loop: RunLoop) -> None:
        """Report the chat models ``loop``'s nodes call (no-op without langchain-core)."""
        live = loop.live_chunks()
        attach_handler(loop, lambda: langchain_handler(ModelEvents)(self, live.append))


def _about(start: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's later events repeat of its start event, as copies no two events share."""
    return {
        "name": start["name"],
        "tags": list(start["tags"]),
        "run_id": start["run_id"],
        "metadata": dict(start["metadata"]),
        "parent_ids": list(start["parent_ids"]),
    }


def _run_metadata(config: Mapping[str, Any]) -> dict[str, Any]:
    """The graph run's metadata, as LangChain gives it: the config's, its plain configurable values."""
    out: dict[str, Any] = dict(config.get("metadata") or {})
    for key, value in (config.get("configurable") or {}).items():
        if not key.startswith("__") and isinstance(value, str | int | float | bool):
            out.setdefault(key, value)
    out["ls_integration"] = "langgraph"
    return out


class ModelEvents(StreamingHandler):
    """Reports the chat models nodes call as ``on_chat_model_*`` events (mixed into LangChain's handler).

    Being a streaming handler, it makes ``model.invoke()`` stream token by token.
    """

    def __init__(self, run: _Translator, emit: Callable[[Any], None]) -> None:
        super().__init__()
        self.run = run
        self.emit = emit
        self._runs: dict[UUID, dict[str, Any]] = {}  # model run id -> its start event

    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        ctx = current_task.get()
        if ctx is None:  # called outside a node
            return
        conf = ctx.config.get("configurable") or {}
        ns = conf.get("checkpoint_ns") or ""
        meta = chunk_metadata(ctx.task, ctx.task.step, ns, ctx.config)
        meta.update(metadata or {})  # the model's own: ls_provider, ls_integration...
        meta.setdefault("checkpoint_ns", meta["langgraph_checkpoint_ns"].split("|", 1)[0])
        own = [*(ns.split("|") if ns else ()), f"{ctx.task.name}:{ctx.task.id}"]
        start = {
            "event": "on_chat_model_start",
            "data": {"input": {"messages": messages}},
            "name": name or (serialized or {}).get("name") or "ChatModel",
            "tags": list(tags or ()),
            "run_id": str(run_id),
            "metadata": meta,
            "parent_ids": self.run.parents(own),
        }
        self._runs[run_id] = start
        self.emit(("events", start))

    def _event(self, start: Mapping[str, Any], kind: str, data: dict[str, Any]) -> Any:
        return ("events", {"event": kind, "data": data, **_about(start)})

    def on_llm_new_token(
        self, token: str, *, chunk: Any = None, run_id: UUID, **kwargs: Any
    ) -> None:
        start = self._runs.get(run_id)
        message = getattr(chunk, "message", None)
        if start is not None and message is not None:
            self.emit(self._event(start, "on_chat_model_stream", {"chunk": message}))

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        start = self._runs.pop(run_id, None)
        if start is None:
            return
        generations = getattr(response, "generations", None) or [[]]
        output = getattr(generations[0][0], "message", None) if generations[0] else None
        data = {"output": output, **start["data"]}
        self.emit(self._event(start, "on_chat_model_end", data))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)
