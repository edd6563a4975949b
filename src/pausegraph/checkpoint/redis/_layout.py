"""Where everything lives in Redis: the key layout, written down once.

Every key starts with the saver's prefix ``P`` (default ``"pausegraph:"``).
Thread ids, namespaces and graph names are escaped (``%`` and ``:``
percent-encoded) so no two of them can produce the same key.

Per thread ``T``:

========================  =======  ===========================================
key                       type     holds
========================  =======  ===========================================
``P t:T``                 hash     ``"n" + ns`` -> the key base of namespace
                                   ``ns`` (below); ``w``/``g`` -> the thread's
                                   waiting-index member and graph index key
``P t:T:requests``        hash     idempotency key -> checkpoint id
``P t:T:lease``           string   the lease owner (``PX`` = the lease's life)
========================  =======  ===========================================

Per thread and namespace, under the key base ``B = P t:T:n:NS:``:

========================  =======  ===========================================
``B ids``                 zset     checkpoint ids, score 0: ids are time-ordered
                                   fixed-width strings, so ``ZRANGEBYLEX`` pages
                                   history and finds the newest
``B cps``                 hash     checkpoint id -> record: the ``vals`` fields
                                   it reads, then its header (``_record``)
``B vals``                hash     ``blob key \\0 version`` -> one stored value
``B writes``              hash     ``id \\0 task \\0 channel`` -> pending write
``B worder``              zset     ``id \\0 seq \\0 task \\0 channel``, score 0:
                                   the writes of one checkpoint in first-write
                                   order (``seq`` is 8 hex digits)
========================  =======  ===========================================

Shared by all threads:

========================  =======  ===========================================
``P threads``             zset     thread id, score = when its keys expire
                                   (ms since the epoch; ``inf`` = never)
``P waiting``             zset     ``paused_at|thread_id``, score 0 (the
                                   pagination cursor itself), oldest first
``P waiting:graph:G``     zset     the same, for the threads of graph ``G``
``P waiting:entries``     hash     thread id -> the waiting-index entry
``P layout``              string   the version of this layout
========================  =======  ===========================================

A thread's keys are all reachable from ``P t:T`` without scanning the
keyspace, so deleting a thread or setting its expiry is one script whose cost
grows with its number of namespaces, never with its history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_PREFIX",
    "LAYOUT_VERSION",
    "NS_SUFFIXES",
    "KeyLayout",
    "NsKeys",
    "mask_url",
]

DEFAULT_PREFIX = "pausegraph:"
"""The prefix of every key the saver writes, unless ``prefix=`` says otherwise."""

LAYOUT_VERSION = 2
"""Version of the layout above; a saver refuses a store written in a newer one.

2: a ``cps`` record starts with the fields its values are stored under, so a
load is one script. Stores of layout 1 (the header alone) still load.
"""

NS_SUFFIXES = ("ids", "cps", "vals", "writes", "worder")
"""The keys under each namespace's key base (the Lua scripts derive them from it)."""

_CACHE_SIZE = 4096


def _esc(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


@dataclass(frozen=True, slots=True)
class NsKeys:
    """The keys of one thread and namespace (and of its thread).

    Attributes:
        meta: The thread's hash (namespaces, waiting-index position).
        requests: The thread's idempotency keys.
        base: The namespace's key base; its keys are ``base + suffix``.
        field: The namespace's field in ``meta``.
    """

    meta: str
    requests: str
    base: str
    field: str
    ids: str
    cps: str
    vals: str
    writes: str
    worder: str


class KeyLayout:
    """The key names for one prefix.

    Args:
        prefix: Prepended to every key.
    """

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix must be a non-empty str, got {prefix!r}.")
        self.prefix = prefix
        self.threads = f"{prefix}threads"
        self.waiting = f"{prefix}waiting"
        self.waiting_entries = f"{prefix}waiting:entries"
        self.layout = f"{prefix}layout"
        self._ns: dict[tuple[str, str], NsKeys] = {}

    def meta(self, thread_id: str) -> str:
        """The thread's hash."""
        return f"{self.prefix}t:{_esc(thread_id)}"

    def requests(self, thread_id: str) -> str:
        """The thread's idempotency keys."""
        return f"{self.meta(thread_id)}:requests"

    def lease(self, thread_id: str) -> str:
        """The thread's lease."""
        return f"{self.meta(thread_id)}:lease"

    def waiting_graph(self, graph: str) -> str:
        """The waiting index of one graph."""
        return f"{self.prefix}waiting:graph:{_esc(graph)}"

    def ns(self, thread_id: str, ns: str) -> NsKeys:
        """The keys of ``thread_id``'s namespace ``ns`` (cached: every save needs them)."""
        found = self._ns.get((thread_id, ns))
        if found is not None:
            return found
        meta = self.meta(thread_id)
        base = f"{meta}:n:{_esc(ns)}:"
        keys = NsKeys(meta, f"{meta}:requests", base, f"n{ns}", *(base + s for s in NS_SUFFIXES))
        if len(self._ns) >= _CACHE_SIZE:
            self._ns.clear()
        self._ns[(thread_id, ns)] = keys
        return keys


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_QUERY_SECRET = re.compile(r"(?i)([?&]password=)[^&#]*")


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, safe to put in an error message.

    Everything between ``://`` and the last ``@`` counts as user info (a
    password may itself contain ``@`` or ``/``); the user name is kept.

    Example:
        >>> mask_url("redis://user:s3cret@db:6379/0")
        'redis://user:***@db:6379/0'
    """
    text = str(url)
    scheme = _SCHEME.match(text)
    if scheme is not None and "@" in text[scheme.end() :]:
        info, _, host = text[scheme.end() :].rpartition("@")
        user, colon, _ = info.partition(":")
        text = f"{scheme.group()}{user + ':***' if colon else '***'}@{host}"
    return _QUERY_SECRET.sub(r"\1***", text)
