"""The Postgres saver's own behaviour: connecting, pools, setup, and errors.

Behaviour and conformance tests run on Postgres through the ``saver`` registry;
these check what is Postgres's own. Each test gets a schema of its own (see
``postgres_schema`` in ``tests/_savers.py``); without a server they skip
(locally) or fail (CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip(
    "psycopg", reason="psycopg is not installed (pip install 'pausegraph[postgres]')"
)

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from _savers import postgres_schema
from pausegraph.checkpoint._records import PendingWrite
from pausegraph.checkpoint.capabilities import (
    RequestLog,
    ThreadLeases,
    ThreadMaintenance,
    WaitingIndex,
)
from pausegraph.checkpoint.postgres import PostgresSaver
from pausegraph.checkpoint.postgres._conn import connect_kwargs, mask
from pausegraph.checkpoint.postgres._schema import SCHEMA_VERSION
from pausegraph.errors import CorruptCheckpointError, MissingDependencyError, StorageError
from pausegraph.testing import make_checkpoint
from pausegraph.testing._factories import ask_graph, config
from pausegraph.types import Command

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as conninfo:
        yield conninfo


@pytest.fixture
def cp(url: str) -> Iterator[PostgresSaver]:
    with PostgresSaver.from_conn_string(url) as saver:
        saver.setup()
        yield saver


def _meta(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT value FROM pausegraph_meta").fetchone()
    assert row is not None
    return str(row[0])


def test_public_names_and_capabilities() -> None:
    import pausegraph.checkpoint.postgres as pg
    import pausegraph.checkpoint.postgres.aio as aio

    assert pg.__all__ == ["PostgresSaver"] and aio.__all__ == ["AsyncPostgresSaver"]
    for cls in (pg.PostgresSaver, aio.AsyncPostgresSaver):
        unconnected = cls.__new__(cls)  # runtime protocols check only the methods
        for capability in (WaitingIndex, ThreadLeases, RequestLog, ThreadMaintenance):
            assert isinstance(unconnected, capability), (cls, capability)


# -- connecting -------------------------------------------------------------------


def test_a_graph_pauses_on_one_saver_and_resumes_on_a_new_one(url: str) -> None:
    with PostgresSaver.from_conn_string(url) as first:
        first.setup()
        paused = ask_graph(first).invoke({"question": "q"}, config("t"))
        assert [i.value for i in paused["__interrupt__"]] == [{"ask": "q"}]
    with PostgresSaver.from_conn_string(url) as second:  # no setup(): first use sets up
        graph = ask_graph(second)
        assert graph.invoke(Command(resume="yes"), config("t")) == {
            "question": "q",
            "answer": "yes",
        }
        assert [s.next for s in graph.get_state_history(config("t"))] == [
            (),
            ("ask",),
            ("__start__",),
        ]


@pytest.mark.parametrize("autocommit", [True, False])
def test_an_existing_connection_in_either_commit_mode(url: str, autocommit: bool) -> None:
    # dict_row, as LangGraph's docs ask for: the saver reads tuples anyway.
    with psycopg.connect(url, autocommit=autocommit, row_factory=dict_row) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        first = make_checkpoint({"a": 1})
        saver.save(first)
        saver.save_writes("t", "", first.id, [PendingWrite("task", "c", 1)])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with PostgresSaver.from_conn_string(url) as other:  # committed: others see it
            stored = other.load("t")
            assert stored is not None and stored.checkpoint == first
            assert stored.writes == (PendingWrite("task", "c", 1),)
        assert "postgresql://" in saver._where and "password" not in saver._where


@pytest.mark.parametrize("autocommit", [True, False])
def test_a_mid_run_save_relaxes_the_flush_for_its_own_commit_only(
    url: str, autocommit: bool
) -> None:
    with psycopg.connect(url, autocommit=autocommit) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        first = make_checkpoint({"a": 1})
        saver.save(first, final=False)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        setting = conn.execute("SHOW synchronous_commit").fetchone()
        assert setting == ("on",)  # the connection's own setting is untouched
        conn.rollback()
        with PostgresSaver.from_conn_string(url) as other:  # committed: others see it
            stored = other.load("t")
            assert stored is not None and stored.checkpoint == first


def test_a_pool_serves_parallel_runs(url: str) -> None:
    with ConnectionPool(url, min_size=1, max_size=4, kwargs={"autocommit": True}) as pool:
        saver = PostgresSaver(pool)
        saver.setup()
        graph = ask_graph(saver)
        threads = [
            threading.Thread(target=graph.invoke, args=({"question": str(i)}, config(f"t{i}")))
            for i in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(saver.list_waiting().items) == 8
        assert graph.invoke(Command(resume="a"), config("t3")) == {"question": "3", "answer": "a"}
        assert saver.list_threads() == [f"t{i}" for i in range(8)]


def test_a_url_or_an_async_connection_is_refused_with_what_to_use(url: str) -> None:
    with pytest.raises(TypeError, match=r"got builtins.str\. .*PostgresSaver.from_conn_string"):
        PostgresSaver(url)  # type: ignore[arg-type]
    from pausegraph.checkpoint.postgres.aio import AsyncPostgresSaver

    with psycopg.connect(url) as conn, pytest.raises(TypeError, match="Use PostgresSaver with it"):
        AsyncPostgresSaver(conn)  # type: ignore[arg-type]


def test_connect_timeout_is_bounded_unless_the_url_sets_one() -> None:
    assert connect_kwargs("postgresql://u@h/db") == {"autocommit": True, "connect_timeout": 5}
    assert connect_kwargs("postgresql://u@h/db?connect_timeout=2") == {"autocommit": True}


@pytest.mark.parametrize(
    ("conn_string", "shown"),
    [
        (
            "postgresql://alice:s3cret-pw@127.0.0.1:1/test",
            "postgresql://alice:***@127.0.0.1:1/test",
        ),
        ("host=127.0.0.1 port=1 user=alice password=s3cret-pw", "password=***"),
        ("postgresql://alice:s3cret-pw@127.0.0.1:notaport/test", "alice:***@"),
        ("postgresql://alice@127.0.0.1:1/test?password=s3cret-pw", "password=***"),
    ],
)
def test_a_bad_url_or_a_down_server_fails_fast_without_the_password(
    conn_string: str, shown: str
) -> None:
    start = time.monotonic()
    with pytest.raises(StorageError) as err, PostgresSaver.from_conn_string(conn_string):
        pass
    assert time.monotonic() - start < 5
    message = str(err.value)
    assert shown in message and "s3cret" not in message and "\n" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no chained password


def test_a_lost_connection_is_a_storage_error_naming_the_database(
    url: str, cp: PostgresSaver
) -> None:
    conn = cp.conn
    assert isinstance(conn, psycopg.Connection)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    with pytest.raises(StorageError, match=r"PostgreSQL at .* failed: .*server may be down"):
        cp.load("t")


def test_mask_hides_passwords_in_every_form() -> None:
    assert mask("postgresql://u:p%40ss@h:5/d?sslmode=require") == (
        "postgresql://u:***@h:5/d?sslmode=require"
    )
    assert mask("postgres://u@h/d") == "postgres://u@h/d"
    assert mask("dbname=d password='a b' host=h") == "dbname=d password=*** host=h"


def test_a_missing_extra_names_the_pip_install() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "try:\n    import pausegraph.checkpoint.postgres\n"
        "except ImportError as e:\n    print(type(e).__name__, e, sep='|')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    name, message = out.stdout.strip().split("|")
    assert name == MissingDependencyError.__name__
    assert "pip install 'pausegraph[postgres]'" in message and "\n" not in message


# -- setup ------------------------------------------------------------------------


def test_setup_twice_and_at_once_from_threads_and_processes(url: str) -> None:
    errors: list[BaseException] = []

    def set_up() -> None:
        try:
            with PostgresSaver.from_conn_string(url) as saver:
                saver.setup()
                saver.setup()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=set_up) for _ in range(4)]
    script = f"from pausegraph.checkpoint.postgres import PostgresSaver\nwith PostgresSaver.from_conn_string({url!r}) as s: s.setup()"
    env = {**os.environ, "PYTHONPATH": SRC}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and [p.wait(timeout=60) for p in procs] == [0, 0]
    assert _meta(url) == str(SCHEMA_VERSION)


def test_a_newer_schema_is_refused_and_left_alone(url: str, cp: PostgresSaver) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE pausegraph_meta SET value = '99'")
    with PostgresSaver.from_conn_string(url) as saver:
        with pytest.raises(CorruptCheckpointError, match="written by a newer pausegraph"):
            saver.setup()
        with pytest.raises(
            CorruptCheckpointError, match=rf"schema 99, this one reads {SCHEMA_VERSION}"
        ):
            saver.load("t")  # first use checks too
    assert _meta(url) == "99"


def test_foreign_tables_are_refused(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE pausegraph_checkpoints (id int)")
    with (
        PostgresSaver.from_conn_string(url) as saver,
        pytest.raises(CorruptCheckpointError, match="no pausegraph_meta table"),
    ):
        saver.setup()


def test_dropped_tables_say_to_run_setup(url: str, cp: PostgresSaver) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE pausegraph_checkpoints CASCADE")
    with pytest.raises(StorageError, match=r"Call saver.setup\(\) again"):
        cp.load("t")
    cp.setup()
    assert cp.load("t") is None
