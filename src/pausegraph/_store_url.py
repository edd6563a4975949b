"""Open a checkpoint store named by a URL, for the command line.

``pausegraph inbox|threads|history STORE`` take the store as a SQLite file
path (or ``sqlite:///path``), a ``postgresql://`` URL or a ``redis://`` URL,
and open the matching saver with its ``from_conn_string``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pausegraph.errors import InvalidConfigError

__all__ = ["open_store"]

_FORMS = (
    "a SQLite file (checkpoints.db or sqlite:///checkpoints.db), "
    "postgresql://user@host:5432/db, or redis://host:6379/0"
)


@contextmanager
def open_store(url: str, *, prefix: str | None = None) -> Iterator[Any]:
    """The saver for ``url``, open for the block.

    Args:
        url: The store (see the module docstring).
        prefix: The Redis saver's key prefix, when it is not the default.

    Raises:
        InvalidConfigError: ``url`` names no kind of store pausegraph knows, or
            a SQLite file that does not exist (reading must not create one).
        MissingDependencyError: The backend's extra is not installed.
        StorageError: The server cannot be reached (the message names it).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "sqlite", url
    elif scheme == "sqlite":
        rest = rest.removeprefix("/")  # sqlite:///relative.db, sqlite:////absolute.db
    if scheme == "sqlite":
        if not Path(rest).is_file():
            raise InvalidConfigError(
                f"No SQLite store at {rest!r}: the file does not exist. Give the path of the "
                f"file your graph's SqliteSaver writes, or one of: {_FORMS}."
            )
        from pausegraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(rest) as saver:
            yield saver
    elif scheme in ("postgres", "postgresql"):
        from pausegraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(url) as saver:
            yield saver
    elif scheme in ("redis", "rediss", "unix"):
        from pausegraph.checkpoint.redis import RedisSaver
        from pausegraph.checkpoint.redis._layout import DEFAULT_PREFIX

        with RedisSaver.from_conn_string(url, prefix=prefix or DEFAULT_PREFIX) as saver:
            yield saver
    else:
        raise InvalidConfigError(f"Unknown store {scheme + '://'!r}: give {_FORMS}.")
