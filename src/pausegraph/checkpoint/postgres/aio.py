"""The async PostgreSQL checkpoint saver, for ``ainvoke`` and ``astream``.

Example:
    >>> from pausegraph.checkpoint.postgres.aio import AsyncPostgresSaver
    >>> async with AsyncPostgresSaver.from_conn_string(DB_URI) as checkpointer:
    ...     await checkpointer.setup()
    ...     graph = builder.compile(checkpointer=checkpointer)
    ...     await graph.ainvoke(inputs, {"configurable": {"thread_id": "1"}})
"""

from pausegraph.checkpoint.postgres._async_saver import AsyncPostgresSaver

__all__ = ["AsyncPostgresSaver"]
