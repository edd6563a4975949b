"""The SQLite checkpoint saver: durable threads in one local file, no server.

Example:
    >>> from pausegraph.checkpoint.sqlite import SqliteSaver
    >>> with SqliteSaver.from_conn_string("checkpoints.db") as saver:
    ...     graph = builder.compile(checkpointer=saver)

For asyncio programs, :mod:`pausegraph.checkpoint.sqlite.aio` has
``AsyncSqliteSaver``, the same saver run on a worker thread.
"""

from pausegraph.checkpoint.sqlite._saver import SqliteSaver

__all__ = ["SqliteSaver"]
