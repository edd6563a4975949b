"""Turn ``sqlite3`` errors into pausegraph's storage errors, each saying what to do."""

from __future__ import annotations

import sqlite3

from pausegraph.errors import CorruptCheckpointError, StorageError

__all__ = ["refuse_unreadable", "storage_error"]


def refuse_unreadable(path: str, exc: sqlite3.Error) -> CorruptCheckpointError:
    """The error for a file SQLite cannot read as a database, found before any write."""
    return CorruptCheckpointError(
        f"{path} cannot be used as a pausegraph checkpoint store: SQLite says {exc!s:.200}. "
        "It is not a SQLite database, or it is damaged; nothing in it was changed. Pass the "
        "path of a pausegraph file (a new path creates one), or restore this one from a backup."
    )


def storage_error(path: str, exc: sqlite3.Error) -> StorageError:
    """The pausegraph error for a SQLite call on ``path`` that failed with ``exc``."""
    text = str(exc)
    if type(exc) is sqlite3.DatabaseError:  # the bare class: SQLITE_CORRUPT or SQLITE_NOTADB
        return CorruptCheckpointError(
            f"{path} is damaged or not a SQLite database (SQLite says {text}). Restore it "
            "from a backup, or use another file."
        )
    if "locked" in text or "busy" in text:
        return StorageError(
            f"{path} stayed locked by another connection longer than the busy timeout "
            f"({text}). Retry, or keep other processes' transactions on the file short."
        )
    if "closed database" in text:
        return StorageError(
            f"The saver's connection to {path} is closed ({text}). Use the saver inside its "
            "`with SqliteSaver.from_conn_string(...)` block, or pass an open connection."
        )
    if "same thread" in text:
        return StorageError(
            f"The SQLite connection for {path} was created in another thread ({text}). "
            "Connect with sqlite3.connect(..., check_same_thread=False), or use "
            "SqliteSaver.from_conn_string(...)."
        )
    return StorageError(f"SQLite failed on {path}: {text}")
