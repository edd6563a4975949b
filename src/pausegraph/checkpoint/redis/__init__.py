"""Redis checkpoint savers: durable threads shared by every process that reaches one server.

Plain Redis is enough: 6.2 or newer, **no modules** (no RediSearch, no
RedisJSON; LangGraph's Redis saver needs both). Install the extra and start a
server::

    pip install 'pausegraph[redis]'
    docker run -d -p 6379:6379 redis:7      # or: redis-server

then connect with a URL, ``redis://[user:password@]host[:port][/db]``
(``rediss://`` for TLS, ``unix:///path/to/redis.sock`` for a socket)::

    from pausegraph.checkpoint.redis import RedisSaver

    with RedisSaver.from_conn_string("redis://localhost:6379") as saver:
        saver.setup()
        graph = builder.compile(checkpointer=saver)

:class:`AsyncRedisSaver` is the same saver on ``redis.asyncio``
(``async with AsyncRedisSaver.from_conn_string(url) as saver``). Both offer
every optional capability: the waiting index, thread leases, idempotency
keys, listing and pruning. Every write is one Lua script, so it is atomic.

Expiry (``ttl=`` seconds, off by default): when a run ends, that is when a
root checkpoint with nothing left to run is saved, every key of the thread
gets an expiry ``ttl`` seconds later. Saving any other root checkpoint (the
thread runs again: new input, a fork, ``update_state``) removes the expiry.
A paused thread always has work left, so it never expires while it waits for
its answer; delete it with ``delete_thread`` to drop it. A thread whose run
failed is kept too (it can be retried).

Keys start with ``prefix=`` (default ``"pausegraph:"``); the layout is
described in ``pausegraph.checkpoint.redis._layout``. Redis keeps data in
memory: for threads that must survive a server restart turn on persistence
(``appendonly yes``), and keep a ``maxmemory-policy`` that never evicts
these keys (``noeviction``, the default), since an evicted key would leave a
thread half-stored. A cluster is not supported (the waiting index spans
threads); use one primary, with replicas if you like.
"""

try:
    import redis as _redis  # noqa: F401 - fail here, with the install hint, when missing
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    from pausegraph.errors import MissingDependencyError

    raise MissingDependencyError(
        "pausegraph's Redis saver needs redis-py: pip install 'pausegraph[redis]'"
    ) from exc

from pausegraph.checkpoint.redis._async import AsyncRedisSaver
from pausegraph.checkpoint.redis._saver import RedisSaver

__all__ = ["AsyncRedisSaver", "RedisSaver"]
