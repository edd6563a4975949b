"""Chat histories: the ``add_messages`` reducer and ``MessagesState``.

Messages may be plain dicts (``{"role": "user", "content": "hi"}``) or
LangChain message objects. When ``langchain-core`` is installed, messages are
converted to LangChain objects, as LangGraph does, so ``state["messages"][-1].content``
works the same after switching; without it they stay dicts.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

__all__ = ["REMOVE_ALL_MESSAGES", "MessagesState", "add_messages"]

REMOVE_ALL_MESSAGES = "__remove_all__"
"""Give a removal this id to clear the whole history."""


def _langchain() -> Any | None:
    try:
        from langchain_core import messages
    except ImportError:
        return None
    return messages


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _normalize(messages: list[Any], lc: Any | None) -> list[Any]:
    if lc is not None:
        converted: list[Any] = lc.convert_to_messages(messages)
        return converted
    out: list[Any] = []
    for m in messages:
        if isinstance(m, str):
            out.append({"role": "user", "content": m})
        elif isinstance(m, dict):
            out.append(dict(m))
        elif isinstance(m, tuple) and len(m) == 2:
            out.append({"role": m[0], "content": m[1]})
        else:
            out.append(m)
    return out


def _get_id(m: Any) -> Any:
    return m.get("id") if isinstance(m, dict) else getattr(m, "id", None)


def _set_id(m: Any, value: str) -> None:
    if isinstance(m, dict):
        m["id"] = value
    else:
        m.id = value


def _is_removal(m: Any) -> bool:
    if isinstance(m, dict):
        return m.get("type") == "remove"
    return type(m).__name__ == "RemoveMessage"


def add_messages(left: Any, right: Any) -> list[Any]:
    """Merge two message lists by id: new ids append, known ids replace, removals delete.

    Args:
        left: The current messages (a list or a single message).
        right: The messages to merge in.

    Returns:
        The merged list; messages without an id get a fresh UUID.

    Raises:
        ValueError: A removal names an id that is not in the history.
    """
    import uuid

    lc = _langchain()
    left_list = _normalize(_as_list(left), lc)
    right_list = _normalize(_as_list(right), lc)
    for m in (*left_list, *right_list):
        if _get_id(m) is None:
            _set_id(m, str(uuid.uuid4()))
    for i, m in enumerate(right_list):
        if _is_removal(m) and _get_id(m) == REMOVE_ALL_MESSAGES:
            return right_list[i + 1 :]

    merged = list(left_list)
    index = {_get_id(m): i for i, m in enumerate(merged)}
    removed: set[Any] = set()
    for m in right_list:
        mid = _get_id(m)
        if _is_removal(m):
            if mid not in index:
                raise ValueError(
                    f"Cannot remove message {mid!r}: no message with that id is in the history."
                )
            removed.add(mid)
        elif mid in index:
            merged[index[mid]] = m
            removed.discard(mid)
        else:
            index[mid] = len(merged)
            merged.append(m)
    return [m for m in merged if _get_id(m) not in removed]


class MessagesState(TypedDict):
    """A state with one key, ``messages``, merged with :func:`add_messages`."""

    messages: Annotated[list[Any], add_messages]
