"""How the sync and the async saver share every operation: flows of queries.

An operation is written once, as a generator that yields :class:`Query`\\ s
and receives each one's rows (httpx's ``auth_flow`` pattern). The sync saver
runs it with :func:`run` on a ``psycopg.Connection``, the async saver with
:func:`arun` on a ``psycopg.AsyncConnection``; neither knows any SQL.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg.rows import tuple_row

if TYPE_CHECKING:
    import psycopg

__all__ = ["Flow", "Query", "arun", "run"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Query:
    """One statement to run, with its named parameters."""

    sql: str
    params: Mapping[str, Any] | None = None


Flow = Generator[Query, list[tuple[Any, ...]], T]
"""An operation: yields queries, is sent each one's rows, returns its result."""


def run(conn: psycopg.Connection[Any], flow: Flow[T]) -> T:
    """Run ``flow`` on ``conn``.

    Rows are tuples whatever the connection's ``row_factory`` (LangGraph asks for
    ``dict_row``), and come back in binary (``bytea`` as raw bytes, not hex).
    """
    try:
        query = next(flow)
        while True:
            cur = conn.cursor(row_factory=tuple_row).execute(query.sql, query.params, binary=True)
            query = flow.send(cur.fetchall() if cur.description is not None else [])
    except StopIteration as stop:
        result: T = stop.value
        return result


async def arun(conn: psycopg.AsyncConnection[Any], flow: Flow[T]) -> T:
    """Async :func:`run`."""
    try:
        query = next(flow)
        while True:
            cur = conn.cursor(row_factory=tuple_row)
            await cur.execute(query.sql, query.params, binary=True)
            query = flow.send(await cur.fetchall() if cur.description is not None else [])
    except StopIteration as stop:
        result: T = stop.value
        return result
