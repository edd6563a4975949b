"""Connecting the Redis savers, and what happens on bad URLs, dead servers and foreign bytes.

Errors must name the server without its password and come fast.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("redis", reason="redis-py is not installed (pip install 'pausegraph[redis]')")

import redis
import redis.asyncio

from _savers import REDIS_URL
from pausegraph.checkpoint.redis import AsyncRedisSaver, RedisSaver
from pausegraph.checkpoint.redis._layout import mask_url
from pausegraph.errors import CorruptCheckpointError, MissingDependencyError, StorageError
from pausegraph.testing import save_chain


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fake_server(greeting: bytes) -> Iterator[str]:
    """A TCP server that sends ``greeting`` to each connection, then nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn = listener.accept()[0]
            except OSError:
                return
            held.append(conn)
            conn.sendall(greeting)

    threading.Thread(target=accept, daemon=True).start()
    yield f"redis://:hunter2@127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    yield from fake_server(b"")


@pytest.fixture
def http_server() -> Iterator[str]:
    """A TCP server that answers like a web server."""
    yield from fake_server(b"HTTP/1.1 400 Bad Request\r\n\r\n")


# -- connecting ----------------------------------------------------------------------


def test_from_conn_string_connects_and_the_saver_outlives_the_block(client, prefix):
    with RedisSaver.from_conn_string(REDIS_URL, prefix=prefix) as cp:
        cp.setup()
        cp.setup()  # idempotent
        memory = cp
    cps = save_chain(memory, 2)  # used after the block, as LangGraph's notebooks do: it reconnects
    assert memory.load("t").checkpoint == cps[-1]  # type: ignore[union-attr]
    assert client.get(f"{prefix}layout") == b"2"


def test_from_conn_string_takes_langgraphs_keyword(prefix):
    with RedisSaver.from_conn_string(redis_url=REDIS_URL, prefix=prefix, ttl=60) as saver:
        assert saver.ttl == 60 and saver.list_threads() == []


def test_an_existing_client_is_used_and_never_closed(client, prefix):
    saver = RedisSaver(client, prefix=prefix)
    with saver as same:
        assert same is saver
        save_chain(saver, 1)
    assert client.ping() and saver.load("t") is not None
    assert saver.list_threads() == ["t"]


def test_wrong_clients_are_refused_with_what_to_pass(client):
    with pytest.raises(TypeError, match=r"from_conn_string\(url\)"):
        RedisSaver(REDIS_URL)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"AsyncRedisSaver takes redis\.asyncio clients"):
        RedisSaver(redis.asyncio.Redis.from_url(REDIS_URL))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="RedisSaver takes sync clients"):
        AsyncRedisSaver(client)
    decoding = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    with pytest.raises(StorageError, match="decode_responses=False"):
        RedisSaver(decoding)


# -- bad URLs and dead servers ---------------------------------------------------------


def test_a_dead_server_fails_fast_and_hides_the_password():
    url = f"redis://admin:hunter2@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    with pytest.raises(StorageError) as err, RedisSaver.from_conn_string(url):
        pass
    assert time.monotonic() - started < 2
    message = str(err.value)
    assert f"redis://admin:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in message
    assert "hunter2" not in message and "docker run" in message
    assert err.value.__cause__ is None  # the redis-py error (with its URL) is not chained


async def test_a_dead_server_fails_fast_for_the_async_saver_too():
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"redis://:\*\*\*@127\.0\.0\.1") as err:
        async with AsyncRedisSaver.from_conn_string(url):
            pass
    assert time.monotonic() - started < 2 and "hunter2" not in str(err.value)


def test_a_server_that_never_answers_times_out(silent_server):
    started = time.monotonic()
    with pytest.raises(StorageError, match="did not answer in time") as err:  # noqa: SIM117
        with RedisSaver.from_conn_string(silent_server, timeout=0.3):
            pass
    assert time.monotonic() - started < 2 and "hunter2" not in str(err.value)


def test_a_server_that_is_not_redis_is_named(http_server):
    with pytest.raises(StorageError, match="does not answer like Redis") as err:  # noqa: SIM117
        with RedisSaver.from_conn_string(http_server, timeout=1):
            pass
    assert "redis://:***@127.0.0.1:" in str(err.value) and "hunter2" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://bob:hunter2@localhost:6379", "http://bob:***@localhost:6379"),
        ("redis://:hunter2@localhost:notaport/0", "redis://:***@localhost:notaport/0"),
    ],
)
def test_a_malformed_url_is_a_storage_error_naming_it_masked(url: str, shown: str):
    with pytest.raises(StorageError, match="is not a Redis URL") as err:  # noqa: SIM117
        with RedisSaver.from_conn_string(url):
            pass
    assert shown in str(err.value) and "hunter2" not in str(err.value)


def test_a_missing_database_is_reported():
    with pytest.raises(StorageError, match="DB index is out of range"):  # noqa: SIM117
        with RedisSaver.from_conn_string(REDIS_URL.rsplit("/", 1)[0] + "/999"):
            pass


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://user:s3cret@db:6379/0", "redis://user:***@db:6379/0"),
        ("redis://:p@ss/w@rd@db/1", "redis://:***@db/1"),
        ("rediss://s3cret@db", "rediss://***@db"),
        ("redis://db:6379/0?password=s3cret&x=1", "redis://db:6379/0?password=***&x=1"),
        ("redis://db:6379/0", "redis://db:6379/0"),
        ("unix:///tmp/redis.sock?db=2", "unix:///tmp/redis.sock?db=2"),
    ],
)
def test_mask_url(url: str, masked: str):
    assert mask_url(url) == masked


def test_a_server_lost_after_connecting_is_a_storage_error(client, prefix):
    lost = redis.Redis.from_url(f"redis://localhost:{free_port()}/0")  # no retries: fails at once
    saver = RedisSaver(lost, prefix=prefix)
    with pytest.raises(StorageError, match=r"Cannot reach Redis at redis://localhost:\d+/0"):
        saver.load("t")


# -- foreign and damaged data ---------------------------------------------------------


def test_damaged_bytes_are_corrupt_checkpoint_errors(client, prefix):
    saver = RedisSaver(client, prefix=prefix)
    cps = save_chain(saver, 2)
    k = saver.keys.ns("t", "")
    client.hset(k.vals, f"y\x00{cps[0].id}", b"\xc1 not msgpack")
    with pytest.raises(CorruptCheckpointError):
        saver.load("t")
    client.hdel(k.vals, f"y\x00{cps[0].id}")
    with pytest.raises(CorruptCheckpointError, match=f"'y' from checkpoint {cps[0].id!r}"):
        saver.load("t")
    client.hset(k.cps, cps[1].id, b"garbage")
    with pytest.raises(CorruptCheckpointError, match="damaged or was not written by pausegraph"):
        saver.load("t")
    with pytest.raises(CorruptCheckpointError):
        list(saver.history("t"))


def test_keys_of_another_program_under_the_prefix_are_refused(client, prefix):
    saver = RedisSaver(client, prefix=prefix)
    client.set(saver.keys.ns("t", "").ids, "not a sorted set")
    with pytest.raises(CorruptCheckpointError, match="pass another prefix= or database"):
        saver.load("t")
    client.set(f"{prefix}layout", "someone else's")
    with pytest.raises(CorruptCheckpointError, match="not a pausegraph layout version"):
        RedisSaver(client, prefix=prefix).setup()


def test_a_store_of_a_newer_layout_is_refused_untouched(client, prefix):
    client.set(f"{prefix}layout", "99")
    with pytest.raises(CorruptCheckpointError, match=r"newer pausegraph.*upgrade pausegraph"):
        RedisSaver(client, prefix=prefix).load("t")
    assert client.get(f"{prefix}layout") == b"99"


def test_without_redis_py_the_import_names_the_extra():
    script = (
        "import sys\n"
        "sys.modules['redis'] = None\n"
        "try:\n"
        "    import pausegraph.checkpoint.redis\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == (
        "MissingDependencyError pausegraph's Redis saver needs redis-py: "
        "pip install 'pausegraph[redis]'"
    )
    assert issubclass(MissingDependencyError, ImportError)


def test_an_async_saver_used_from_another_event_loop_says_so(prefix):
    saver = AsyncRedisSaver(redis.asyncio.Redis.from_url(REDIS_URL), prefix=prefix)
    assert asyncio.run(saver.aload("t")) is None
    with pytest.raises(StorageError, match="belongs to another event loop"):
        asyncio.run(saver.aload("t"))


def test_the_public_names():
    import pausegraph.checkpoint.redis as module

    assert module.__all__ == ["AsyncRedisSaver", "RedisSaver"]
    assert module.RedisSaver is RedisSaver and module.AsyncRedisSaver is AsyncRedisSaver


def test_a_connection_the_server_dropped_is_replaced(client, prefix):
    own = redis.Redis.from_url(REDIS_URL)  # redis-py's default: retry on a dropped connection
    saver = RedisSaver(own, prefix=prefix)
    cps = save_chain(saver, 3)
    pooled = own.client_id()  # the pool's one connection, which the saver reuses
    assert client.client_kill_filter(_id=pooled) == 1
    stored = saver.load("t")  # on a new connection
    assert stored is not None and stored.checkpoint.id == cps[-1].id
    own.close()


def test_a_single_connection_client_works(client, prefix):
    single = redis.Redis.from_url(REDIS_URL, single_connection_client=True)
    saver = RedisSaver(single, prefix=prefix)
    cps = save_chain(saver, 2)
    stored = saver.load("t")
    assert stored is not None and stored.checkpoint.id == cps[-1].id
    single.close()


def test_a_command_that_loses_its_connection_is_retried_as_the_client_says(
    client, prefix, monkeypatch
):
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    own = redis.Redis.from_url(REDIS_URL, retry=Retry(NoBackoff(), 1))
    saver = RedisSaver(own, prefix=prefix)
    cps = save_chain(saver, 2)
    real = redis.connection.Connection.send_packed_command
    failures: list[bytes] = []

    def flaky(self: Any, packed: Any, *args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(b"".join(packed).split(b"\r\n")[2])  # the command's name
            raise redis.ConnectionError("connection reset by peer")
        return real(self, packed, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", flaky)
    stored = saver.load("t")
    assert failures == [b"EVALSHA"]
    assert stored is not None and stored.checkpoint.id == cps[-1].id
    own.close()
