"""Channels: the rule each state key uses to fold one step's writes into its value.

A channel is stateless; the value lives in the checkpoint. ``fold(current,
writes)`` returns the new value, with :data:`MISSING` standing for "no value
yet". Keeping channels stateless lets the planner stay pure and the runtime
share one channel object between every run of a compiled graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Final, get_args, get_origin

from pausegraph.errors import InvalidUpdateError

__all__ = ["MISSING", "BinaryOperatorAggregate", "Channel", "LastValue", "channel_for"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final[Any] = _Missing()
"""Marks a key that has no value yet."""


class Channel:
    """Base of all channels.

    Attributes:
        key: The state key this channel holds.
        appends: ``True`` when the reducer appends to a list, so storage may keep
            only the appended part.
    """

    __slots__ = ("appends", "key")

    def __init__(self, key: str) -> None:
        self.key = key
        self.appends = False

    def initial(self) -> Any:
        """The value before the first write (``MISSING`` for none)."""
        return MISSING

    def fold(self, current: Any, writes: Sequence[Any], writers: Sequence[str]) -> Any:
        """Combine ``writes`` (from the nodes named in ``writers``) into ``current``."""
        raise NotImplementedError


class LastValue(Channel):
    """Keeps the last value written; two writes in one step are an error."""

    __slots__ = ()

    def fold(self, current: Any, writes: Sequence[Any], writers: Sequence[str]) -> Any:
        if len(writes) == 1:
            return writes[0]
        if not writes:
            return current
        names = ", ".join(repr(w) for w in writers)
        raise InvalidUpdateError(
            f"State key {self.key!r} received {len(writes)} values in one step (from {names}) "
            "but has no reducer to combine them. Give it one, for example "
            f"`{self.key}: Annotated[list, operator.add]`, or make only one node write it per step."
        )


class BinaryOperatorAggregate(Channel):
    """Folds each write into the value with ``reducer(current, write)``."""

    __slots__ = ("_factory", "reducer")

    def __init__(
        self, key: str, reducer: Callable[[Any, Any], Any], factory: Callable[[], Any] | None
    ) -> None:
        super().__init__(key)
        self.reducer = reducer
        self._factory = factory
        self.appends = factory is list and getattr(reducer, "__name__", "") in {
            "add",
            "add_messages",
        }

    def initial(self) -> Any:
        if self._factory is None:
            return MISSING
        try:
            return self._factory()
        except Exception:
            return MISSING

    def fold(self, current: Any, writes: Sequence[Any], writers: Sequence[str]) -> Any:
        value = current
        reducer = self.reducer
        for write in writes:
            value = write if value is MISSING else reducer(value, write)
        return value


def _reducer_of(annotation: Any) -> Callable[[Any, Any], Any] | None:
    if get_origin(annotation) is not Annotated:
        return None
    for meta in reversed(get_args(annotation)[1:]):
        if callable(meta) and not isinstance(meta, type):
            return meta  # type: ignore[no-any-return]
    return None


def _factory_of(annotation: Any) -> Callable[[], Any] | None:
    base = get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation
    origin = get_origin(base) or base
    if isinstance(origin, type) and origin in (list, dict, set, int, float, str, tuple, frozenset):
        return origin
    return None


def channel_for(key: str, annotation: Any) -> Channel:
    """The channel for a state key declared with ``annotation``.

    ``Annotated[T, reducer]`` gets a :class:`BinaryOperatorAggregate` starting
    from ``T()`` when ``T`` is a builtin container or number; anything else a
    :class:`LastValue`.
    """
    reducer = _reducer_of(annotation)
    if reducer is None:
        return LastValue(key)
    return BinaryOperatorAggregate(key, reducer, _factory_of(annotation))
