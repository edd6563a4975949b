"""What a running node can reach: ``interrupt()``, ``once()`` and the stream writer.

The runtime sets a :class:`TaskContext` in a context variable around each
node call; the helpers below read it. They are re-exported by
:mod:`pausegraph.types`.
"""

from __future__ import annotations

import functools
import linecache
import sys
from collections.abc import Callable
from contextvars import ContextVar
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from pausegraph.errors import GraphInterrupt, InterruptMismatchError, OutsideNodeError

if TYPE_CHECKING:
    import hashlib

__all__ = [
    "RunScope",
    "TaskContext",
    "call_site",
    "current_task",
    "get_config",
    "get_stream_writer",
    "interrupt",
    "interrupt_id",
    "journal_record",
    "journal_slot",
    "once",
]

T = TypeVar("T")

_current: ContextVar[TaskContext | None] = ContextVar("pausegraph_task", default=None)
current_task = _current


class RunScope:
    """What every task of one run shares: its config, stream writer, saver and sinks.

    Attributes:
        config: The run's config (its ``configurable`` names thread and namespace).
        writer: Emits ``custom`` stream chunks.
        on_journal: Called with ``(task, entries)`` when a task records a
            ``once()`` result, so the runtime can persist it at once.
        saver: The run's checkpointer, inherited by graphs its nodes invoke.
        sink: Where graphs invoked by its nodes stream their chunks, when the
            caller asked for ``subgraphs=True`` (``None`` otherwise).
    """

    __slots__ = ("config", "on_journal", "saver", "sink", "writer")

    def __init__(
        self,
        config: dict[str, Any],
        writer: Callable[[Any], None] | None = None,
        on_journal: Callable[[Any, list[Any]], None] | None = None,
        saver: Any = None,
        sink: Any = None,
    ) -> None:
        self.config = config
        self.writer = writer
        self.on_journal = on_journal
        self.saver = saver
        self.sink = sink


class TaskContext:
    """The per-call context of one task.

    Attributes:
        task: The running task (its ``id`` names its interrupts).
        answers: ``[site, value, fingerprint]`` per call answered so far, in call order
            (see :func:`call_site` and :func:`fingerprint`).
        new_answer: A fresh answer for the next unanswered ``interrupt()``, if any.
        new_answer_site: Where the interrupt it answers was raised.
        journal: Results of ``once()`` calls stored by earlier runs of this task.
        writer: Emits ``custom`` stream chunks.
        config: The run's config.
        on_journal: Called with ``(task, entries)`` when this run records a
            ``once()`` result, so the runtime can persist it.
        saver: The run's checkpointer, inherited by graphs the node invokes.
        sink: Where graphs the node invokes stream (see :class:`RunScope`).
    """

    __slots__ = (
        "answers",
        "config",
        "has_new_answer",
        "interrupt_count",
        "journal",
        "journal_count",
        "new_answer",
        "new_answer_site",
        "on_journal",
        "pending_schema",
        "saver",
        "sink",
        "task",
        "used_answer",
        "writer",
    )

    def __init__(  # positional or keyword: see task_context
        self,
        task: Any,
        answers: list[list[Any]] | None = None,
        new_answer: Any = None,
        has_new_answer: bool = False,
        new_answer_site: Any = None,
        journal: list[Any] | None = None,
        writer: Callable[[Any], None] | None = None,
        config: dict[str, Any] | None = None,
        on_journal: Callable[[Any, list[Any]], None] | None = None,
        saver: Any = None,
        sink: Any = None,
    ) -> None:
        self.task = task
        self.answers = answers if answers is not None else []
        self.new_answer = new_answer
        self.has_new_answer = has_new_answer
        self.new_answer_site = new_answer_site
        self.used_answer = False
        self.journal = journal if journal is not None else []
        self.writer = writer
        self.config = config if config is not None else {}  # the run's own dict (see _tokens)
        self.on_journal = on_journal
        self.saver = saver
        self.sink = sink
        self.interrupt_count = 0
        self.journal_count = 0
        self.pending_schema: Any = None


_blake2b: type[hashlib.blake2b] | None = None  # imported on first use: hashlib costs ~4 ms


def digest(data: bytes, size: int) -> str:
    """The hex blake2b digest of ``data``, ``size`` bytes long."""
    global _blake2b
    if _blake2b is None:
        from hashlib import blake2b

        _blake2b = blake2b
    return _blake2b(data, digest_size=size).hexdigest()


@functools.cache
def _interrupt_type() -> Any:
    from pausegraph.types import Interrupt  # pausegraph.types imports this module

    return Interrupt


def interrupt_id(task_id: str, index: int) -> str:
    """The id of the ``index``-th ``interrupt()`` call of a task: stable and unique."""
    return digest(f"{task_id}:{index}".encode(), 16)


def call_site(depth: int = 2) -> list[Any]:
    """Where the caller ``depth`` frames up is: ``[file, line, function, text digest]``.

    ``file`` is the last two parts of the path (``package/module.py``).

    The digest (of the source line's text) is what matching compares, with the
    file and function; the line number is only shown in messages.
    """
    frame = sys._getframe(depth)
    code, lineno = frame.f_code, frame.f_lineno
    # Keyed by id (hashing a code object hashes its bytecode and constants);
    # the entry keeps the code object, so an id reused by another one misses.
    known = _sites.get((id(code), lineno))
    if known is None or known[0] is not code:
        known = _site(code, lineno)
    return [known[1], lineno, known[2], known[3]]


_sites: dict[tuple[int, int], tuple[CodeType, str, str, str]] = {}


def _site(code: CodeType, lineno: int) -> tuple[CodeType, str, str, str]:
    """Work out (and remember) the short path, function name and line digest of a call site.

    Remembered by code object: a node re-run on every resume asks about the
    same few lines, and the text is that of the code that runs (read once, as
    ``linecache`` keeps it; a reloaded module has new code objects).
    """
    filename = code.co_filename
    # The last two parts: the same on every machine that runs the code (an
    # absolute path would differ between a worker that paused and one that resumes).
    parts = filename.replace("\\", "/").rsplit("/", 2)
    text = linecache.getline(filename, lineno).strip()
    func = getattr(code, "co_qualname", code.co_name)
    site = (code, "/".join(parts[-2:]), func, digest(text.encode(), 6) if text else "")
    if len(_sites) >= 1024:  # bounded: code made on the fly must not pile up
        _sites.clear()
    _sites[(id(code), lineno)] = site
    return site


def same_site(a: Any, b: Any) -> bool:
    """Whether two call sites are the same ``interrupt()`` call.

    File, function and the text of the line are compared, not the line
    number, so editing lines above an ``interrupt()`` while a thread is paused
    does not break it, while reordered or skipped calls are still caught.
    """
    if not a or not b:
        return True
    return bool(a[0] == b[0] and a[2] == b[2] and (a[3] == b[3] if a[3] and b[3] else a[1] == b[1]))


@functools.cache
def _ormsgpack() -> ModuleType:
    # Not with pausegraph.graph: it loads uuid, platform, datetime. Cached: a
    # function-level import costs more than the packing it is for.
    import ormsgpack

    return ormsgpack


_packb: Callable[..., bytes] | None = None  # ormsgpack.packb, kept on first use
_FINGERPRINT_OPTIONS = 0  # set with it


def fingerprint(value: Any) -> str:
    """A short, stable digest of an interrupt's value: which question was answered."""
    global _packb, _FINGERPRINT_OPTIONS
    if _packb is None:
        ormsgpack = _ormsgpack()
        _FINGERPRINT_OPTIONS = (
            ormsgpack.OPT_SORT_KEYS | ormsgpack.OPT_NON_STR_KEYS | ormsgpack.OPT_SERIALIZE_PYDANTIC
        )
        _packb = ormsgpack.packb
    try:
        data = _packb(value, default=repr, option=_FINGERPRINT_OPTIONS)
    except Exception:  # values msgpack cannot order: fall back to their repr
        data = repr(value).encode()
    return digest(data, 8)


def describe_site(site: Any) -> str:
    """``file:line (function)`` for messages."""
    if not site:
        return "an unknown place"
    return f"{site[0]}:{site[1]} ({site[2]})"


def _require() -> TaskContext:
    ctx = _current.get()
    if ctx is None:
        raise OutsideNodeError(
            "interrupt() was called outside a running graph node. Call it inside a node "
            "function of a graph compiled with a checkpointer."
        )
    return ctx


def interrupt(value: Any, *, response_schema: Any = None) -> Any:
    """Pause the run and ask a person; return their answer when the run resumes.

    The first time, this stops the node, the run saves its state and returns
    ``value`` to the caller under ``"__interrupt__"``. Resuming with
    ``Command(resume=answer)`` runs the node again from its first line, and this
    call returns ``answer``. Several calls in one node are answered in order.

    Args:
        value: The question, any JSON-serializable value.
        response_schema: Optional pydantic model, ``TypedDict`` or JSON Schema
            dict the answer must fit; a bad answer is refused with
            :class:`~pausegraph.errors.ResumeValidationError` before anything is written.

    Returns:
        The resume value answering this call.

    Raises:
        InterruptMismatchError: The stored answer at this position was given to
            an ``interrupt()`` at another place (calls were reordered or skipped).
    """
    ctx = _current.get()
    if ctx is None:
        ctx = _require()  # raises
    site = call_site(2)
    index = ctx.interrupt_count
    ctx.interrupt_count = index + 1
    if index < len(ctx.answers):
        answered_at, answer, *rest = ctx.answers[index]
        if not same_site(answered_at, site):
            _site_mismatch(index, answered_at, site)
        if rest and rest[0] != fingerprint(value):
            raise InterruptMismatchError(
                f"interrupt() #{index + 1} at {describe_site(site)} asks a different question "
                "than the one that was answered: its value changed since (for example a loop "
                "over items that changed). The answer is not handed to the new question. Make "
                "the interrupt()s of a node, and their values, the same on every run.",
                answered_at=describe_site(answered_at),
                called_at=describe_site(site),
            )
        return answer if response_schema is None else _coerce(answer, response_schema)
    if ctx.has_new_answer:
        if not same_site(ctx.new_answer_site, site):
            _site_mismatch(index, ctx.new_answer_site, site)
        ctx.has_new_answer = False
        ctx.used_answer = True
        answer = ctx.new_answer
        ctx.answers.append([site, answer, fingerprint(value)])
        return answer if response_schema is None else _coerce(answer, response_schema)
    Interrupt = _interrupt_type()
    exc = GraphInterrupt((Interrupt(value, interrupt_id(ctx.task.id, index)),))
    exc.site = site  # type: ignore[attr-defined]
    exc.response_schema = response_schema  # type: ignore[attr-defined]
    try:
        raise exc
    finally:
        # Its traceback holds this frame: kept as a local, the exception would
        # make a cycle holding the whole run, which only the GC could free.
        del exc


def _site_mismatch(index: int, answered_at: Any, site: list[Any]) -> NoReturn:
    raise InterruptMismatchError(
        f"interrupt() #{index + 1} of this node was answered for the call at "
        f"{describe_site(answered_at)}, but on this run interrupt() #{index + 1} is the call at "
        f"{describe_site(site)}. A node must make its interrupt() calls in the same order on every "
        "run: do not skip or reorder them based on values that change between runs.",
        answered_at=describe_site(answered_at),
        called_at=describe_site(site),
    )


def _coerce(answer: Any, schema: Any) -> Any:
    if schema is None:
        return answer
    from pausegraph.runtime._validate import coerce_answer

    return coerce_answer(answer, schema)


def once(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn(*args, **kwargs)`` once per task, even when the node re-runs.

    The result is saved with the task, so a side effect placed before an
    ``interrupt()`` (sending an email, charging a card) is not repeated when the
    node runs again on resume: later runs get the saved result instead.

    Returns:
        ``fn``'s result (the saved one on re-runs).
    """
    ctx = _current.get()
    if ctx is None:
        return fn(*args, **kwargs)
    index, found, saved = journal_slot(ctx)
    if found:
        return saved  # type: ignore[no-any-return]
    result = fn(*args, **kwargs)
    journal_record(ctx, index, result)
    return result


def journal_slot(ctx: TaskContext) -> tuple[int, bool, Any]:
    """Take the next journal position: ``(index, found, saved result)``."""
    index = ctx.journal_count
    ctx.journal_count = index + 1
    if index < len(ctx.journal):
        return index, True, ctx.journal[index]
    return index, False, None


def journal_record(ctx: TaskContext, index: int, result: Any) -> None:
    """Save ``result`` at journal position ``index`` and have the runtime persist it."""
    if index != len(ctx.journal):
        return  # an earlier call of this run failed; keep positions aligned
    ctx.journal.append(result)
    if ctx.on_journal is not None:
        ctx.on_journal(ctx.task, list(ctx.journal))


def _noop_writer(chunk: Any) -> None:
    return None


def get_stream_writer() -> Callable[[Any], None]:
    """The writer for ``custom`` stream chunks of the running node (a no-op outside one)."""
    ctx = _current.get()
    if ctx is None or ctx.writer is None:
        return _noop_writer
    return ctx.writer


def get_config() -> dict[str, Any]:
    """The config of the running node's run.

    Raises:
        OutsideNodeError: Called outside a running node.
    """
    ctx = _current.get()
    if ctx is None:
        raise OutsideNodeError("get_config() was called outside a running graph node.")
    return ctx.config
