"""Where a paged ``history()`` call stands, for savers that read it a page per round trip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["PAGE", "HistoryCursor"]

PAGE = 32
"""Checkpoints read per round trip by ``history()``: memory stays bounded on long threads."""

T = TypeVar("T")


class HistoryCursor:
    """The cursor, what the limit leaves, and whether the history is exhausted.

    A saver asks :meth:`page_size` before each read and hands what it read
    to :meth:`advance`, which moves the cursor and cuts the page to the limit.
    """

    __slots__ = ("before", "done", "filter", "left")

    def __init__(
        self, before: str | None, limit: int | None, filter: Mapping[str, Any] | None
    ) -> None:
        self.before = before
        self.left = limit
        self.filter = filter or None
        self.done = limit is not None and limit <= 0

    def page_size(self) -> int:
        """How many checkpoints to read next (all of a page when a filter may drop some)."""
        return PAGE if self.filter or self.left is None else min(self.left, PAGE)

    def advance(self, seen: Sequence[str], size: int, items: list[T]) -> list[T]:
        """Move past ``seen`` (the ids read, oldest last) and return ``items`` cut to the limit."""
        if seen:
            self.before = seen[-1]
        self.done = len(seen) < size
        if self.left is not None:
            items = items[: self.left]
            self.left -= len(items)
            self.done = self.done or self.left <= 0
        return items
