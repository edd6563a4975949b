"""``stream_mode="messages"``: the chat messages each node returns, with where they came from.

A chunk is ``(message, metadata)``, as in LangGraph: ``message`` a message a
node wrote (a LangChain message object; without ``langchain-core``, a dict
message written to a key reduced by ``add_messages``), ``metadata`` the run's
``config["metadata"]``, its ``thread_id`` and ``langgraph_step``,
``langgraph_node``, ``langgraph_triggers``, ``langgraph_path`` and
``langgraph_checkpoint_ns``. A message without an id gets one here, so the
chunk and the state name it alike. A message comes once: not when the node
got it in its input (the run's input, or a subgraph node returning its whole
state), nor again when a subgraph streamed it already.

Tokens of chat models that nodes call come as the model makes them (see
``_tokens``); their messages are then seen, and come once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.graph._messages import _langchain, add_messages
from pausegraph.runtime import _planner as P

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec
    from pausegraph.runtime._planner import Task

__all__ = ["chunk_metadata", "message_chunks"]


def message_chunks(
    spec: GraphSpec,
    task: Task,
    step: int,
    ns: str,
    config: Mapping[str, Any],
    before: Mapping[str, Any],
    seen: set[str],
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The ``(message, metadata)`` chunks of a finished ``task``'s writes.

    Args:
        before: The state the task ran on: its messages are not chunks.
        seen: Ids of the messages streamed already (by this run or the runs it
            is nested in or nests); the chunks' ids are added.
    """
    langchain = _langchain() is not None  # as add_messages decides
    found = []
    for key, value in task.writes or ():
        new = _messages(spec, key, value, langchain)
        if new:
            known = {_id_of(m) for m in _messages(spec, key, before.get(key), langchain)}
            found += [m for m in new if _id_of(m) not in known and _id_of(m) not in seen]
    if not found:
        return
    metadata = chunk_metadata(task, step, ns, config, spec)
    for message in found:
        _name(message)
        seen.add(_id_of(message))
        yield message, dict(metadata)


def chunk_metadata(
    task: Task, step: int, ns: str, config: Mapping[str, Any], spec: GraphSpec | None = None
) -> dict[str, Any]:
    """The metadata of a chunk of ``task`` (run in namespace ``ns``): the run's, and where."""
    part = f"{task.name}:{task.id}"
    metadata: dict[str, Any] = dict(config.get("metadata") or {})
    thread_id = (config.get("configurable") or {}).get("thread_id")
    if thread_id is not None:
        metadata["thread_id"] = thread_id
    metadata["ls_integration"] = "langgraph"  # a chat model's calls name their own
    metadata.update(
        langgraph_step=step,
        langgraph_node=task.name,
        langgraph_triggers=P.triggers(spec, task),
        langgraph_path=task.path,
        langgraph_checkpoint_ns=f"{ns}|{part}" if ns else part,
    )
    return metadata


def _messages(spec: GraphSpec, key: str, value: Any, langchain: bool) -> list[Any]:
    """The messages in one write: LangChain messages, or dicts for an ``add_messages`` key."""
    if value is None:
        return []
    items = list(value) if isinstance(value, list | tuple) else [value]
    if langchain:
        return [m for m in items if _is_langchain_message(m)]
    channel = spec.channels.get(key)
    if getattr(channel, "reducer", None) is not add_messages:
        return []
    return [
        m for m in items if isinstance(m, dict) and "content" in m and m.get("type") != "remove"
    ]


def _is_langchain_message(value: Any) -> bool:
    cls = type(value)
    return cls.__module__.startswith("langchain_core.messages") and cls.__name__ != "RemoveMessage"


def _id_of(message: Any) -> Any:
    return message.get("id") if isinstance(message, dict) else getattr(message, "id", None)


def _name(message: Any) -> None:
    """Give ``message`` an id if it has none (``add_messages`` keeps it)."""
    if isinstance(message, dict):
        if not message.get("id"):
            message["id"] = str(uuid.uuid4())
    elif getattr(message, "id", None) is None:
        message.id = str(uuid.uuid4())
