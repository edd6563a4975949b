"""The PostgreSQL checkpoint savers: threads shared by every process that reaches one server.

Install the extra, which brings psycopg 3 and psycopg-pool::

    pip install 'pausegraph[postgres]'

Start a server, for instance with Docker (or use any PostgreSQL 12 or newer)::

    docker run -d --name pg -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16

Then::

    from pausegraph.checkpoint.postgres import PostgresSaver

    DB_URI = "postgresql://postgres@127.0.0.1:5432/postgres"  # user:password@host:port/db
    with PostgresSaver.from_conn_string(DB_URI) as checkpointer:
        checkpointer.setup()  # creates or migrates the tables; safe to run every start
        graph = builder.compile(checkpointer=checkpointer)
        graph.invoke(inputs, {"configurable": {"thread_id": "1"}})

For ``ainvoke``/``astream`` use ``AsyncPostgresSaver`` from
``pausegraph.checkpoint.postgres.aio`` (``async with ...from_conn_string(DB_URI)
as checkpointer: await checkpointer.setup()``). Both also take an existing
connection (``psycopg.Connection`` / ``AsyncConnection``, preferably with
``autocommit=True``) or a pool (``psycopg_pool.ConnectionPool`` /
``AsyncConnectionPool``).

The tables are named ``pausegraph_*`` in the connection's current schema (set
``options=-csearch_path%3Dmyschema`` in the URL to use another), versioned in
``pausegraph_meta``. Thread leases (one run per thread across processes) are
timed by the server's clock and kept in an unlogged table: a server crash or
failover frees them all (the runs holding them lose their connection too).

Every save is one statement and one round trip. Saves in the middle of a run
commit without waiting for the WAL flush; the save or write a run stops on
waits for it, which flushes the earlier ones too, so whatever a run returns
is durable. Relaxing that last wait as well (a *server* crash may then lose
the last fraction of a second of commits, never corrupt them) is a server
setting: add ``options=-csynchronous_commit%3Doff`` to the URL.

A URL that is wrong or a server that is down raises
:class:`~pausegraph.errors.StorageError` within the connect timeout (5 s
unless the URL sets ``connect_timeout``), naming the URL with its password
masked.
"""

from pausegraph.errors import MissingDependencyError

try:
    import psycopg  # noqa: F401
except ImportError as _exc:
    raise MissingDependencyError(
        "The Postgres savers need psycopg 3, which is not installed: "
        "pip install 'pausegraph[postgres]'"
    ) from _exc

from pausegraph.checkpoint.postgres._saver import PostgresSaver

__all__ = ["PostgresSaver"]
