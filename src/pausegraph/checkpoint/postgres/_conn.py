"""Connecting, naming the database in messages without its password, and psycopg errors.

Shared by both savers. Nothing here runs a query.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pausegraph.errors import StorageError

__all__ = [
    "CONNECT_TIMEOUT",
    "check_connection",
    "connect_error",
    "connect_kwargs",
    "describe",
    "mask",
    "storage_error",
    "sync_connect_args",
]

CONNECT_TIMEOUT = 5
"""Seconds :meth:`from_conn_string` waits for the server unless the URL sets ``connect_timeout``."""

_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)", re.IGNORECASE)


def mask(conninfo: str) -> str:
    """``conninfo`` (a URL or ``key=value`` string) with any password shown as ``***``."""
    text = _PASSWORD_PARAM.sub(r"\1***", conninfo)
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return re.sub(r"(://[^/@:]*):[^/]*@", r"\1:***@", text)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return text
    netloc = f"{userinfo.split(':', 1)[0]}:***@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))


def _password(conninfo: str) -> str | None:
    try:
        value = conninfo_to_dict(conninfo).get("password")
    except psycopg.Error:
        return None
    return str(value) if value else None


def _scrub(text: str, conninfo: str) -> str:
    """One line of ``text``, with the password of ``conninfo`` (if it appears) masked."""
    password = _password(conninfo)
    if password:
        text = text.replace(password, "***")
    return " ".join(mask(text).split())


def connect_kwargs(conninfo: str) -> dict[str, Any]:
    """Arguments for ``psycopg.connect``: autocommit, and a bounded connect timeout.

    Raises:
        StorageError: ``conninfo`` is not a valid connection string.
    """
    try:
        given = conninfo_to_dict(conninfo)
    except psycopg.Error as exc:
        raise StorageError(
            f"{mask(conninfo)!r} is not a valid PostgreSQL connection string "
            f"({_scrub(str(exc), conninfo)}). Use a URL such as "
            "postgresql://user:password@host:5432/dbname."
        ) from None
    kwargs: dict[str, Any] = {"autocommit": True}
    if "connect_timeout" not in given:
        kwargs["connect_timeout"] = CONNECT_TIMEOUT
    return kwargs


def connect_error(conninfo: str, exc: Exception) -> StorageError:
    """The error for a connection attempt to ``conninfo`` that failed with ``exc``."""
    return StorageError(
        f"Cannot connect to PostgreSQL at {mask(conninfo)}: {_scrub(str(exc), conninfo)}. "
        "Check that the server is running and that host, port, database, user and "
        "password are right."
    )


def check_connection(conn: object, *, asynchronous: bool) -> None:
    """Refuse what the saver cannot run on, saying what to pass instead.

    Raises:
        TypeError: ``conn`` is not a connection or pool of the saver's kind.
    """
    kinds: list[type] = [psycopg.AsyncConnection if asynchronous else psycopg.Connection]
    try:
        import psycopg_pool

        kinds.append(
            psycopg_pool.AsyncConnectionPool if asynchronous else psycopg_pool.ConnectionPool
        )
    except ImportError:  # pragma: no cover - the extra brings it
        pass
    if isinstance(conn, tuple(kinds)):
        return
    name, other = ("PostgresSaver", "AsyncPostgresSaver")[:: -1 if asynchronous else 1]
    expected = " or ".join(f"{k.__module__.split('.')[0]}.{k.__name__}" for k in kinds)
    if isinstance(conn, str):
        hint = f"For a connection string use {name}.from_conn_string(...)."
    elif isinstance(conn, (psycopg.Connection, psycopg.AsyncConnection)) or "Pool" in repr(
        type(conn)
    ):
        hint = f"Use {other} with it."
    else:
        hint = "Connect with psycopg first, or use from_conn_string(...)."
    raise TypeError(
        f"{name} runs on {expected}, got {type(conn).__module__}.{type(conn).__qualname__}. {hint}"
    )


def sync_connect_args(conn: Any) -> tuple[str, dict[str, Any]]:
    """How to open a sync connection to the database of an async connection or pool."""
    conninfo = getattr(conn, "conninfo", None)  # a pool
    if isinstance(conninfo, str):
        return conninfo, {**(getattr(conn, "kwargs", None) or {})}
    params: dict[str, Any] = dict(conn.info.get_parameters())
    if conn.info.password:
        params["password"] = conn.info.password
    params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return make_conninfo("", **params), {}


def describe(conn: Any) -> str:
    """A connection or pool, named for messages: a URL without password."""
    conninfo = getattr(conn, "conninfo", None)  # a pool
    if isinstance(conninfo, str):
        return mask(conninfo) or "the PostgreSQL database"
    try:
        params: dict[str, str] = conn.info.get_parameters()
    except Exception:
        return "the PostgreSQL database"
    user = params.get("user", "")
    host = params.get("host", "") or "localhost"
    port = params.get("port", "")
    return f"postgresql://{user}{'@' if user else ''}{host}{':' if port else ''}{port}/" + (
        params.get("dbname", "")
    )


def storage_error(where: str, exc: psycopg.Error) -> StorageError:
    """The pausegraph error for a statement on ``where`` that failed with ``exc``."""
    text = " ".join(str(exc).split())
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return StorageError(
            f"The pausegraph tables are missing in {where} ({text}); they were dropped after "
            "the saver set them up, or the search_path changed. Call saver.setup() again."
        )
    if isinstance(exc, psycopg.OperationalError):
        return StorageError(
            f"PostgreSQL at {where} failed: {text}. The server may be down or the connection "
            "was closed; check the server, then retry with a new saver."
        )
    return StorageError(f"PostgreSQL at {where} failed: {text}")
