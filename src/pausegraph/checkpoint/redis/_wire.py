"""Round trips on one redis-py connection: each command packed once, sent in one write.

redis-py's ``execute_command`` and its pipelines spend about 15 µs and 40 µs
of Python per round trip here (events, metrics, a check of every argument,
one ``sendall`` per chunk) on top of a 60 µs round trip. The saver's commands
are few and their arguments plain (``str``, ``bytes``, ``int``), so it packs
them itself, with hiredis when it is installed, and reads the replies with
the connection's own parser, which turns error replies into redis-py's
exceptions (``NoScriptError``, ``ResponseError``...).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import redis.exceptions as rx

from pausegraph.checkpoint.redis._flows import Call, Together

try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - redis[hiredis] is the extra; plain redis-py works too
    _hiredis_pack = None  # type: ignore[assignment]

__all__ = [
    "Exchange",
    "around_trip",
    "arun",
    "exchange",
    "first_failure",
    "round_trip",
    "run",
]

_MULTI = b"*1\r\n$5\r\nMULTI\r\n"
_EXEC = b"*1\r\n$4\r\nEXEC\r\n"


def _pack(conn: Any, args: Sequence[Any]) -> bytes:
    if _hiredis_pack is not None and conn.encoder.encoding == "utf-8":
        return _hiredis_pack(tuple(args))  # type: ignore[no-any-return]
    return b"".join(conn.pack_command(*args))


def _script_args(call: Call, by_text: bool = False) -> tuple[Any, ...]:
    script = call.script
    assert script is not None
    if by_text:
        return ("EVAL", script.text, call.keys, *call.args)
    return ("EVALSHA", script.sha, call.keys, *call.args)


Exchange = Generator[tuple[bytes, int], list[Any], Any]
"""One flow step as round trips: yields what to send and how many replies to read,
is sent those replies (an error reply as its exception), returns the step's reply."""


def exchange(conn: Any, call: Call | Together) -> Exchange:
    """The round trips of a command, a script, or calls run together, on ``conn``.

    A script the server does not know (after a restart or ``SCRIPT FLUSH``) is
    sent again by its text. Calls run together are one ``MULTI``/``EXEC``; when
    a script was missing, the scripts are loaded and the transaction is sent
    again (each call is safe to run twice, see :class:`~._flows.Together`).

    Raises:
        redis.exceptions.ResponseError: The reply was an error; for calls run
            together, the first one (the others ran: Redis has no rollback), or
            the command the server refused to queue (then nothing ran).
    """
    if isinstance(call, Together):
        return (yield from _together(conn, call))
    if call.script is None:
        (reply,) = yield _pack(conn, call.args), 1
    else:
        (reply,) = yield _pack(conn, _script_args(call)), 1
        if isinstance(reply, rx.NoScriptError):
            (reply,) = yield _pack(conn, _script_args(call, by_text=True)), 1
    return _value(reply)


def _together(conn: Any, together: Together) -> Exchange:
    body = [_pack(conn, c.args if c.script is None else _script_args(c)) for c in together.calls]
    packed = b"".join([_MULTI, *body, _EXEC])
    for _ in range(2):
        *queued, result = yield packed, len(body) + 2  # MULTI's OK, one QUEUED each, EXEC's
        if isinstance(result, Exception):  # EXECABORT: a command was refused, nothing ran
            refused = next((r for r in queued if isinstance(r, Exception)), result)
            if not isinstance(refused, rx.NoScriptError):
                raise refused
        else:
            missing, error = first_failure(result)
            if error is not None:
                raise error
            if not missing:
                return result
        texts = {c.script.text for c in together.calls if c.script is not None}
        for reply in (
            yield b"".join(_pack(conn, ("SCRIPT", "LOAD", t)) for t in texts), len(texts)
        ):
            _value(reply)
    raise rx.NoScriptError("the server keeps forgetting pausegraph's scripts")


def _value(reply: Any) -> Any:
    if isinstance(reply, Exception):
        raise reply
    return reply


def first_failure(replies: Sequence[Any]) -> tuple[bool, Exception | None]:
    """Whether a script was missing (load them and run again), and the first other error."""
    missing = any(isinstance(r, rx.NoScriptError) for r in replies)
    errors = [r for r in replies if isinstance(r, Exception)]
    return missing, (errors[0] if errors and not missing else None)


def round_trip(conn: Any, packed: bytes, replies: int) -> list[Any]:
    """Send ``packed`` in one write and read ``replies`` replies (an error reply as its exception)."""
    conn.send_packed_command((packed,))
    out: list[Any] = []
    for _ in range(replies):
        try:
            out.append(conn.read_response())
        except rx.ResponseError as exc:
            out.append(exc)
    return out


def run(conn: Any, call: Call | Together) -> Any:
    """:func:`exchange` on a sync connection."""
    steps = exchange(conn, call)
    replies: Any = None
    while True:
        try:
            packed, count = steps.send(replies)
        except StopIteration as stop:
            return stop.value
        replies = round_trip(conn, packed, count)


async def around_trip(conn: Any, packed: bytes, replies: int) -> list[Any]:
    """:func:`round_trip` on a ``redis.asyncio`` connection."""
    await conn.send_packed_command((packed,))
    out: list[Any] = []
    for _ in range(replies):
        try:
            out.append(await conn.read_response())
        except rx.ResponseError as exc:
            out.append(exc)
    return out


async def arun(conn: Any, call: Call | Together) -> Any:
    """:func:`exchange` on a ``redis.asyncio`` connection."""
    steps = exchange(conn, call)
    replies: Any = None
    while True:
        try:
            packed, count = steps.send(replies)
        except StopIteration as stop:
            return stop.value
        replies = await around_trip(conn, packed, count)
