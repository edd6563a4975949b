"""Tokens of chat models that nodes call, for ``stream_mode="messages"`` (with LangChain).

While a step of a top-level run that streams ``messages`` runs, LangChain's
child-config context variable carries a :class:`TokenHandler` (see
:func:`attach`). A chat model a node calls, whether the node passes its
``config`` on or not, then streams, and each token reaches the caller as it
comes: ``(AIMessageChunk, metadata)``, with the node's ``langgraph_*`` keys
and the model's own (``ls_provider``, ``ls_model_name``...). A model that
cannot stream reports its whole message when it ends. Either way the
message's id is marked seen, so the node's returned message is not reported
again. As in LangGraph, a model tagged ``nostream`` is not reported, nor is
one called outside a node; a model called in a nested run's node is reported
with ``subgraphs=True`` (under the nested run's namespace), and otherwise its
message comes when the parent's node returns it.

The context variable is set inside the step's own thread or task, so a model
the caller runs between chunks never sees the handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pausegraph.runtime._context import current_task
from pausegraph.runtime._message_chunks import chunk_metadata

if TYPE_CHECKING:
    from pausegraph.runtime._live import LiveChunks
    from pausegraph.runtime._loop import RunLoop

__all__ = ["NOSTREAM", "StreamingHandler", "attach", "attach_handler", "langchain_handler"]

NOSTREAM = ("nostream", "langsmith:nostream")
"""Tags that keep a model's tokens out of the stream (LangGraph's)."""


def attach(loop: RunLoop) -> None:
    """Stream the tokens of chat models that ``loop``'s nodes call (no-op without langchain-core)."""
    attach_handler(
        loop,
        lambda: langchain_handler(TokenHandler)(
            loop.live_chunks(), loop.seen_messages(), loop.opts.config
        ),
    )


def attach_handler(loop: RunLoop, make: Callable[[], Any]) -> None:
    """Give the chat models ``loop``'s nodes call the callback handler ``make()`` returns.

    Nodes that pass their config on get it through that config; the others
    through LangChain's child-config context variable, set in each step's own
    thread or task (``live.enter``). A no-op without langchain-core.
    """
    try:
        from langchain_core.callbacks import BaseCallbackManager
        from langchain_core.runnables.config import var_child_runnable_config
    except ImportError:
        return
    live = loop.live_chunks()  # chunks are reported while the step runs
    handler = make()
    inherited = loop.opts.config.get("callbacks")
    if isinstance(inherited, BaseCallbackManager):
        callbacks: Any = inherited.copy()
        callbacks.add_handler(handler, inherit=True)
    else:
        callbacks = [*(inherited or ()), handler]

    # Nodes that pass their config on (model.invoke(messages, config)) pass the handler too.
    loop.opts.config["callbacks"] = callbacks

    def enter() -> None:
        outer = var_child_runnable_config.get() or {}
        var_child_runnable_config.set({**outer, "callbacks": callbacks})

    live.enter = enter


_CLASSES: dict[type, type] = {}


def langchain_handler(mixin: type) -> type:
    """``mixin`` made a LangChain callback handler class (made on first use; needs langchain-core)."""
    made = _CLASSES.get(mixin)
    if made is None:
        from langchain_core.callbacks import BaseCallbackHandler

        made = _CLASSES[mixin] = type(mixin.__name__, (mixin, BaseCallbackHandler), {})
    return made


class StreamingHandler:
    """What makes a callback handler a streaming one to LangChain: ``model.invoke()`` then streams.

    Its callbacks run in the node's thread, in order, with its context (``run_inline``).
    """

    run_inline = True

    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        return output

    def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return output


class TokenHandler(StreamingHandler):
    """Reports the tokens of chat models called inside nodes (mixed into LangChain's handler).

    Args:
        live: The top-level run's live chunks.
        seen: Ids of messages reported already, at the top level (a nested run
            streaming into a sink uses the sink's set, which it shares).
        config: The top-level run's config, which its tasks' contexts hold.
    """

    def __init__(self, live: LiveChunks, seen: set[str], config: Mapping[str, Any]) -> None:
        super().__init__()
        self.live = live
        self.seen = seen
        self.config = config
        # Model runs being reported: run id -> (emit, seen, metadata, streamed a token).
        self._runs: dict[UUID, list[Any]] = {}

    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        ctx = current_task.get()
        if ctx is None or (tags and any(tag in NOSTREAM for tag in tags)):
            return
        sink = ctx.sink
        if sink is not None:  # subgraphs=True: at any depth, under the run's namespace
            emit: Callable[[str, Any], None] = sink.emit
            seen = sink.seen
        elif ctx.config is self.config:  # a node of the top-level run
            emit, seen = self._emit, self.seen
        else:  # a nested run's node: its messages come with the node that ran the run
            return
        conf = ctx.config.get("configurable") or {}
        ns = conf.get("checkpoint_ns") or ("|".join(sink.path) if sink is not None else "")
        model = dict(metadata or {})
        # In LangGraph's key order: the run's metadata, the integration (the model's),
        # where the chunk comes from (and the top-level task's namespace), the model's
        # other keys, the run's tags.
        meta = chunk_metadata(ctx.task, ctx.task.step, ns, ctx.config)
        if "ls_integration" in model:
            meta["ls_integration"] = model.pop("ls_integration")
        meta.setdefault("checkpoint_ns", meta["langgraph_checkpoint_ns"].split("|", 1)[0])
        for key, value in model.items():
            meta.setdefault(key, value)
        if user_tags := [t for t in ctx.config.get("tags") or () if not t.startswith("seq:step")]:
            meta["tags"] = user_tags
        self._runs[run_id] = [emit, seen, meta, False]

    def _emit(self, mode: str, chunk: Any) -> None:
        self.live.append((mode, chunk))

    def on_llm_new_token(
        self, token: str, *, chunk: Any = None, run_id: UUID, **kwargs: Any
    ) -> None:
        run = self._runs.get(run_id)
        message = getattr(chunk, "message", None)
        if run is None or message is None:
            return
        emit, seen, meta, _ = run
        run[3] = True
        if message.id is not None:
            seen.add(message.id)
        emit("messages", (message, dict(meta)))

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        emit, seen, meta, streamed = run
        if streamed:
            return
        for generations in getattr(response, "generations", None) or ():
            for generation in generations:
                message = getattr(generation, "message", None)
                if message is None or message.id in seen:
                    continue
                if message.id is not None:
                    seen.add(message.id)
                emit("messages", (message, dict(meta)))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._runs.pop(run_id, None)
