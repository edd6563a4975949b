"""The values users pass to and get from a graph: commands, interrupts, snapshots.

Names and shapes follow LangGraph so that ``from langgraph.types import ...``
becomes ``from pausegraph.types import ...``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from pausegraph.runtime._context import get_stream_writer, interrupt, once

__all__ = [
    "All",
    "CachePolicy",
    "Checkpointer",
    "Command",
    "Durability",
    "Interrupt",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamWriter",
    "get_stream_writer",
    "interrupt",
    "once",
]

N = TypeVar("N", bound=Hashable)

All = Literal["*"]
"""Pass ``"*"`` as ``interrupt_before`` / ``interrupt_after`` to pause at every node."""

StreamMode = Literal["values", "updates", "debug", "custom", "messages", "checkpoints", "tasks"]
"""What ``stream()`` yields: full state, per-node updates, debug events or custom data."""

Durability = Literal["sync", "async", "exit"]
"""When checkpoints are written: before the next step (``sync``, the default),
while it runs (``async``) or only when the run stops (``exit``)."""

StreamWriter = Callable[[Any], None]
"""A callable a node uses to emit ``custom`` stream chunks."""

Checkpointer = Any
"""Anything accepted as ``compile(checkpointer=...)``: a saver, ``None`` or ``False``."""


@dataclass(frozen=True, slots=True)
class Interrupt:
    """A pause requested by a node, as the caller sees it.

    Attributes:
        value: The payload given to ``interrupt()``; show it to the person.
        id: Stable and unique per ``interrupt()`` call; answer it with
            ``Command(resume={id: value})``.
        response_schema: The schema the answer must fit, if one was given.
    """

    value: Any
    id: str = "placeholder-id"
    response_schema: Any = None

    @property
    def interrupt_id(self) -> str:
        """Same as :attr:`id` (older name)."""
        return self.id

    @property
    def resumable(self) -> bool:
        """Always ``True``: every interrupt can be answered (older attribute)."""
        return True

    @property
    def when(self) -> Literal["during"]:
        """Always ``"during"``: the node was running (older attribute)."""
        return "during"

    @property
    def ns(self) -> None:
        """Kept for compatibility; namespaces are reported on tasks instead."""
        return None


@dataclass(frozen=True, slots=True)
class Send:
    """Run ``node`` once in the next step with ``arg`` as its input (map-reduce fan-out).

    Return a list of these from a conditional edge to run one task per item.
    """

    node: str
    arg: Any

    def __repr__(self) -> str:
        return f"Send(node={self.node!r}, arg={self.arg!r})"


@dataclass(frozen=True, slots=True)
class Command(Generic[N]):
    """Steer a run: answer interrupts, update the state, choose the next nodes.

    As input: ``graph.invoke(Command(resume=...), config)``. As a node's return
    value: ``Command(update={...}, goto="next_node")``.

    Attributes:
        graph: ``None`` for the current graph, ``Command.PARENT`` for the parent.
        update: A state update applied as if the node had returned it.
        resume: The answer to the pending interrupt, or a map ``{interrupt_id: answer}``.
        goto: A node name, a ``Send``, or a sequence of them, to run next.
    """

    graph: str | None = None
    update: Any | None = None
    resume: Any | None = None
    goto: Send | Sequence[Send | N] | N = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("graph", self.graph),
                ("update", self.update),
                ("resume", self.resume),
                ("goto", self.goto),
            )
            if value is not None and value != ()
        )
        return f"Command({shown})"


_PROGRAMMING_ERRORS = (
    ValueError,
    TypeError,
    ArithmeticError,
    ImportError,
    LookupError,
    NameError,
    SyntaxError,
    RuntimeError,
    ReferenceError,
    StopIteration,
    StopAsyncIteration,
    OSError,
)


def default_retry_on(exc: Exception) -> bool:
    """Retry on anything but programming errors (the default of :class:`RetryPolicy`).

    Connection failures and timeouts are retried although they are ``OSError``\\ s.
    """
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return not isinstance(exc, _PROGRAMMING_ERRORS)


class RetryPolicy(NamedTuple):
    """How to retry a node that raised.

    Attributes:
        initial_interval: Seconds before the first retry.
        backoff_factor: Multiplier of the interval after each retry.
        max_interval: Upper bound of the interval, in seconds.
        max_attempts: Attempts in all, the first included.
        jitter: Add up to one second of random jitter.
        retry_on: Exception classes, or a predicate, that allow a retry.
    """

    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    max_attempts: int = 3
    jitter: bool = True
    retry_on: type[Exception] | Sequence[type[Exception]] | Callable[[Exception], bool] = (
        default_retry_on
    )

    def should_retry(self, exc: Exception) -> bool:
        """Whether ``exc`` allows another attempt under this policy."""
        if isinstance(self.retry_on, type):
            return isinstance(exc, self.retry_on)
        if isinstance(self.retry_on, Sequence):
            return isinstance(exc, tuple(self.retry_on))
        return bool(self.retry_on(exc))

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt + 1`` (``attempt`` >= 1)."""
        interval = min(
            self.max_interval, self.initial_interval * self.backoff_factor ** (attempt - 1)
        )
        return interval + (random.uniform(0, 1) if self.jitter else 0.0)


def default_cache_key(value: Any) -> str:
    """The cache key of a node input: a digest of its pickled bytes (its repr if it cannot be pickled)."""
    import hashlib
    import pickle

    try:
        data = pickle.dumps(value, protocol=5)
    except Exception:  # lambdas, locks...: their repr tells inputs apart well enough
        data = repr(value).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class CachePolicy:
    """How a node's results are cached (``add_node(..., cache_policy=CachePolicy())``).

    The graph must be compiled with a cache (``compile(cache=InMemoryCache())``).
    A plain class rather than a dataclass: ``pausegraph.types`` is imported with
    every graph, and making a dataclass costs import time.

    Attributes:
        key_func: Makes the cache key from the node's input (default: a digest
            of the pickled input): equal keys reuse the saved result.
        ttl: Seconds a result stays usable (``None``: until the cache is cleared).
    """

    __slots__ = ("key_func", "ttl")

    def __init__(
        self, *, key_func: Callable[[Any], str] = default_cache_key, ttl: float | None = None
    ) -> None:
        self.key_func = key_func
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"CachePolicy(key_func={self.key_func!r}, ttl={self.ttl!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        return (self.key_func, self.ttl) == (other.key_func, other.ttl)

    def __hash__(self) -> int:
        return hash((self.key_func, self.ttl))


class PregelTask(NamedTuple):
    """A task of the next step, as shown by ``get_state``.

    Attributes:
        id: Deterministic task id.
        name: The node that runs.
        path: Where the task comes from: ``("__pregel_pull", name)`` for an edge,
            ``("__pregel_push", index)`` for a ``Send``.
        error: What the task raised last time (its ``repr`` once stored), if anything.
        interrupts: The interrupts the task is waiting on.
        state: The subgraph's snapshot or config, for subgraph nodes.
        result: The task's writes, if it already finished in this step.
    """

    id: str
    name: str
    path: tuple[str | int, ...] = ()
    error: Exception | str | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Any = None


class StateUpdate(NamedTuple):
    """One update of :meth:`~pausegraph.graph.CompiledStateGraph.bulk_update_state`.

    Attributes:
        values: What ``as_node`` returns, as with ``update_state``.
        as_node: The node the values come from (inferred when it is the only
            update of its superstep and left out).
        task_id: Accepted for LangGraph compatibility; updates apply as the node.
    """

    values: dict[str, Any] | Any | None
    as_node: str | None = None
    task_id: str | None = None


class StateSnapshot(NamedTuple):
    """The state of a thread at one checkpoint.

    Attributes:
        values: The state's values.
        next: Names of the nodes that run next (empty when the run is done).
        config: The config that addresses this checkpoint.
        metadata: ``source``, ``step``, ``parents`` and any user metadata.
        created_at: ISO 8601 time the checkpoint was written.
        parent_config: The config of the checkpoint before this one.
        tasks: The tasks of the next step, with their interrupts and errors.
        interrupts: All pending interrupts of this checkpoint.
    """

    values: dict[str, Any] | Any
    next: tuple[str, ...]
    config: dict[str, Any]
    metadata: Mapping[str, Any] | None
    created_at: str | None
    parent_config: dict[str, Any] | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...] = ()
