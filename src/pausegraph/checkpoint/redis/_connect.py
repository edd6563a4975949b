"""Connections and their failures: clients from URLs, and redis-py errors as pausegraph's.

Every message names the server by its URL with the password masked, and
says what to do.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio
import redis.exceptions as rx

from pausegraph.checkpoint.redis._layout import mask_url
from pausegraph.errors import CorruptCheckpointError, StorageError

__all__ = [
    "CONNECT_TIMEOUT",
    "check_client",
    "describe",
    "open_async",
    "open_sync",
    "storage_error",
    "sync_twin",
]

CONNECT_TIMEOUT = 5.0
"""Seconds ``from_conn_string`` waits for a connection, and for each reply."""

_START = "start one (docker run -d -p 6379:6379 redis:7, or redis-server) or fix the URL"


def storage_error(where: str, exc: Exception) -> StorageError:
    """The pausegraph error for a redis-py failure talking to ``where`` (a masked URL)."""
    text = str(exc)[:300]
    if isinstance(exc, rx.AuthenticationError) or text.startswith(("NOAUTH", "WRONGPASS")):
        return StorageError(
            f"Redis at {where} refused the login ({text}). Check the user name and password "
            "in the URL (redis://user:password@host:port/db)."
        )
    if isinstance(exc, rx.TimeoutError):
        return StorageError(
            f"Redis at {where} did not answer in time ({text}). Check that the URL points at a "
            "Redis server that is up, or pass a longer timeout=."
        )
    if isinstance(exc, rx.ConnectionError):
        return StorageError(f"Cannot reach Redis at {where} ({text}): {_START}.")
    if isinstance(exc, rx.ResponseError) and text.startswith("WRONGTYPE"):
        return CorruptCheckpointError(
            f"Keys of the checkpoint store at {where} hold data pausegraph did not write "
            f"({text}). Another program uses this key prefix: pass another prefix= or database."
        )
    if isinstance(exc, rx.InvalidResponse):
        return StorageError(
            f"The server at {where} does not answer like Redis ({text}). Check the host and "
            "port in the URL."
        )
    return StorageError(f"Redis at {where} failed: {text}")


def describe(client: Any) -> str:
    """A password-free URL naming the server ``client`` talks to."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    scheme = "rediss" if "SSL" in client.connection_pool.connection_class.__name__ else "redis"
    host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
    return f"{scheme}://{host}:{port}/{db}"


def check_client(client: Any, kind: type[Any], use: str) -> None:
    """Refuse what is not a ``kind`` client storing bytes, saying what to pass instead.

    Raises:
        TypeError: ``client`` is not a ``kind``.
        StorageError: It decodes replies to ``str`` (pausegraph stores bytes).
    """
    if not isinstance(client, kind):
        raise TypeError(
            f"Expected a {kind.__module__}.{kind.__name__} client, got {type(client).__name__} "
            f"({client!r:.60}). {use}"
        )
    if client.connection_pool.connection_kwargs.get("decode_responses"):
        raise StorageError(
            f"The Redis client for {describe(client)} decodes replies to str "
            "(decode_responses=True), but checkpoints are bytes. Create it with "
            "decode_responses=False (the default)."
        )


def _url_error(url: str, exc: Exception) -> StorageError:
    return StorageError(
        f"{mask_url(url)} is not a Redis URL ({exc}). Use redis://[user:password@]host[:port]"
        "[/db], rediss://... for TLS, or unix:///path/to/redis.sock."
    )


def open_sync(url: str, timeout: float) -> redis.Redis:
    """A client for ``url`` that answered a ``PING``.

    Raises:
        StorageError: The URL is malformed, or no Redis answered there in ``timeout`` seconds.
    """
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, decode_responses=False
        )
    except (ValueError, TypeError) as exc:
        raise _url_error(url, exc) from None
    try:
        client.ping()
    except rx.RedisError as exc:
        client.close()
        raise storage_error(mask_url(url), exc) from None
    return client


async def open_async(url: str, timeout: float) -> redis.asyncio.Redis:
    """Async :func:`open_sync`."""
    try:
        client = redis.asyncio.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, decode_responses=False
        )
    except (ValueError, TypeError) as exc:
        raise _url_error(url, exc) from None
    try:
        await client.ping()
    except rx.RedisError as exc:
        await client.aclose()
        raise storage_error(mask_url(url), exc) from None
    return client


_PORTABLE = frozenset(
    {
        "host",
        "port",
        "db",
        "username",
        "password",
        "path",
        "socket_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "client_name",
        "protocol",
        "ssl_keyfile",
        "ssl_certfile",
        "ssl_cert_reqs",
        "ssl_ca_certs",
        "ssl_ca_data",
        "ssl_check_hostname",
        "ssl_min_version",
        "ssl_ciphers",
    }
)


def sync_twin(client: redis.asyncio.Redis) -> redis.Redis:
    """A sync client to the same server as the async ``client`` (same address and login).

    The async saver uses it for the calls the runtime makes synchronously
    (lease renewals from the heartbeat thread, ``get_state`` from sync code).
    """
    pool = client.connection_pool
    kwargs = {k: v for k, v in pool.connection_kwargs.items() if k in _PORTABLE}
    name = pool.connection_class.__name__
    connection_class = getattr(redis.connection, name, redis.connection.Connection)
    return redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=connection_class, **kwargs)
    )
