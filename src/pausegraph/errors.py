"""Every error pausegraph raises, in one tree.

Each message says what was wrong, names the offending value, and says what to
do instead. Catch :class:`PauseGraphError` for all of them, or a subtree::

    PauseGraphError
    ├── GraphBuildError (ValueError) ............ the graph definition is invalid
    ├── GraphRunError ........................... a run could not go on
    │   ├── InvalidUpdateError (ValueError) ..... a node's update does not fit the state
    │   ├── InvalidRouteError (ValueError) ...... a router or goto named no node
    │   ├── GraphRecursionError (RecursionError)  more supersteps than recursion_limit
    │   ├── EmptyInputError (ValueError) ........ no input and nothing to resume
    │   ├── InvalidConfigError (ValueError) ..... missing thread_id, bad config
    │   │   └── MissingCheckpointerError (RuntimeError)  the call needs a checkpointer
    │   ├── OutsideNodeError (RuntimeError) ..... interrupt() or a @task called outside a run
    │   ├── ThreadBusyError ..................... the thread is running elsewhere
    │   └── RequestAlreadyRanError .............. a retried key ran, its result was pruned
    ├── ResumeError (ValueError) ................ a resume or state update was refused
    │   ├── NothingToResumeError ................ the thread waits for nobody
    │   ├── UnknownInterruptError (KeyError) .... resume ids match no pending interrupt
    │   ├── InterruptMismatchError .............. a resume would reach a different interrupt()
    │   └── ResumeValidationError ............... the answer does not fit response_schema
    ├── StorageError ............................ the checkpoint store failed
    │   ├── CheckpointNotFoundError (KeyError) .. no such checkpoint
    │   ├── SerializationError (TypeError) ...... a value cannot be stored
    │   └── CorruptCheckpointError (ValueError) . stored bytes are unreadable or foreign
    └── MissingDependencyError (ImportError) .... an optional extra is not installed

Not in the tree, on purpose: :class:`GraphInterrupt` and its legacy subclass
:class:`NodeInterrupt` are control flow, not failures. They derive from
``BaseException`` so that ``except Exception:`` in a node cannot swallow them.
:class:`ParentCommand` (a subgraph routing its parent) is control flow too.
:class:`UnreachableNodeWarning` is a warning, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pausegraph.types import Interrupt

__all__ = [
    "CheckpointNotFoundError",
    "CorruptCheckpointError",
    "EmptyInputError",
    "GraphBuildError",
    "GraphInterrupt",
    "GraphRecursionError",
    "GraphRunError",
    "InterruptMismatchError",
    "InvalidConfigError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "MissingCheckpointerError",
    "MissingDependencyError",
    "NodeInterrupt",
    "NothingToResumeError",
    "OutsideNodeError",
    "ParentCommand",
    "PauseGraphError",
    "RequestAlreadyRanError",
    "ResumeError",
    "ResumeValidationError",
    "SerializationError",
    "StorageError",
    "ThreadBusyError",
    "UnknownInterruptError",
    "UnreachableNodeWarning",
]


class PauseGraphError(Exception):
    """Root of every error pausegraph raises."""


class GraphBuildError(PauseGraphError, ValueError):
    """The graph definition is invalid (raised by the builder and ``compile``)."""


class GraphRunError(PauseGraphError):
    """A run could not go on."""


class InvalidUpdateError(GraphRunError, ValueError):
    """A node returned an update that does not fit the state schema."""


class InvalidRouteError(GraphRunError, ValueError):
    """A router, ``Command(goto=...)`` or ``Send`` named a node the graph lacks."""


class GraphRecursionError(GraphRunError, RecursionError):
    """The run took more supersteps than ``recursion_limit`` allows."""


class EmptyInputError(GraphRunError, ValueError):
    """The input was empty and the thread has nothing to resume."""


class InvalidConfigError(GraphRunError, ValueError):
    """The run's config lacks something it needs (checkpointer, thread_id) or is malformed."""


class MissingCheckpointerError(InvalidConfigError, RuntimeError):
    """The call needs a checkpointer (resuming, reading or changing state), and there is none.

    Also a ``RuntimeError``, which is what LangGraph raises when resuming without one.
    """


class OutsideNodeError(GraphRunError, RuntimeError):
    """A helper that needs a running node was called outside one.

    Raised by ``interrupt()`` and ``get_config()`` outside a node, and by a
    ``@task`` called outside an ``@entrypoint``, a task or a graph node. Also a
    ``RuntimeError``, which is what LangGraph raises there.
    """


class ThreadBusyError(GraphRunError):
    """Another run holds this thread; wait for it to finish and try again."""


class RequestAlreadyRanError(GraphRunError):
    """A retried request's idempotency key already ran, and the checkpoint it ended at was pruned.

    Its result cannot be returned any more, and running it again could answer
    a later interrupt with a stale request, so nothing runs.
    """


class ResumeError(PauseGraphError, ValueError):
    """A resume or a state update was refused; the stored thread is unchanged."""


class NothingToResumeError(ResumeError):
    """``Command(resume=...)`` was sent to a thread with no pending interrupt."""


class UnknownInterruptError(ResumeError, KeyError):
    """``Command(resume={id: ...})`` named an id that matches no pending interrupt."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InterruptMismatchError(ResumeError):
    """A stored answer would be handed to a different ``interrupt()`` call than it answered.

    Raised when a node calls its ``interrupt()``\\ s in a different order (or
    skips one) on a re-run. Attributes ``answered_at`` and ``called_at`` name
    both places as ``file:line (function)``.
    """

    def __init__(self, message: str, *, answered_at: str, called_at: str) -> None:
        super().__init__(message)
        self.answered_at = answered_at
        self.called_at = called_at


class ResumeValidationError(ResumeError):
    """A resume value does not fit the ``response_schema`` of its interrupt.

    ``problems`` lists each problem as a readable string.
    """

    def __init__(self, message: str, *, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class StorageError(PauseGraphError):
    """The checkpoint store failed or refused an operation."""


class CheckpointNotFoundError(StorageError, KeyError):
    """The requested checkpoint does not exist in this thread."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SerializationError(StorageError, TypeError):
    """A value cannot be stored by the serializer."""


class CorruptCheckpointError(StorageError, ValueError):
    """Stored bytes cannot be read: damaged, foreign, or written by a newer pausegraph."""


class MissingDependencyError(PauseGraphError, ImportError):
    """An optional extra is not installed; the message names the ``pip install`` to run."""


class UnreachableNodeWarning(UserWarning):
    """``compile()`` found a node that no edge, router or declared ``Command`` leads to.

    A warning, not an error: a caller's ``Command(goto=...)`` may still run it.
    """


class GraphInterrupt(BaseException):
    """Stops a node so the run can pause; raised by :func:`pausegraph.types.interrupt`.

    Control flow, not an error: it derives from ``BaseException`` so that
    ``except Exception:`` in user code cannot swallow it, and the runtime always
    catches it. ``interrupts`` holds the :class:`~pausegraph.types.Interrupt`\\ s.
    """

    def __init__(self, interrupts: Sequence[Interrupt] = ()) -> None:
        super().__init__(tuple(interrupts))
        self.interrupts: tuple[Interrupt, ...] = tuple(interrupts)


class ParentCommand(BaseException):
    """Carries ``Command(graph=Command.PARENT, ...)`` from a subgraph to its parent node.

    Control flow, like :class:`GraphInterrupt`: the parent treats the command as
    what its subgraph node returned.
    """

    def __init__(self, command: Any) -> None:
        super().__init__(command)
        self.command = command


class NodeInterrupt(GraphInterrupt):
    """Legacy way to pause from inside a node: ``raise NodeInterrupt(value)``.

    Prefer :func:`pausegraph.types.interrupt`, which can return an answer. A
    node stopped this way runs again on resume and stops again unless the state
    changed.
    """

    def __init__(self, value: Any = None, id: str | None = None) -> None:
        BaseException.__init__(self, value)
        self.value = value
        self.given_id = id
        self.interrupts = ()
