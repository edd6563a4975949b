"""Turning ``Command(resume=..., update=..., goto=...)`` into the tasks of the resumed step.

Everything here is checked before anything is written: a refused resume
leaves the stored thread exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.checkpoint._records import Checkpoint, PendingWrite, StoredCheckpoint
from pausegraph.errors import (
    NothingToResumeError,
    ResumeError,
    ResumeValidationError,
    UnknownInterruptError,
)
from pausegraph.runtime import _planner as P
from pausegraph.runtime._planner import Task
from pausegraph.runtime._tasks import interpret_output
from pausegraph.runtime._validate import validate_answer
from pausegraph.runtime._views import input_writes
from pausegraph.types import Command

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec


__all__ = ["prepare_resume"]

_HEX = frozenset("0123456789abcdef")


def _looks_like_id(key: str) -> bool:
    return len(key) == 32 and _HEX.issuperset(key)


def prepare_resume(
    spec: GraphSpec, stored: StoredCheckpoint, command: Command[Any]
) -> tuple[Checkpoint, list[Task], list[tuple[str, Any]], tuple[PendingWrite, ...]]:
    """The checkpoint, tasks, input writes and writes to persist for a resume.

    Raises:
        NothingToResumeError: A resume value was given but nothing waits for one.
        UnknownInterruptError: The id map names ids that are not pending.
        ResumeError: A bare value was given while several interrupts wait.
        ResumeValidationError: An answer does not fit its ``response_schema``.
    """
    cp = stored.checkpoint
    writes = list(stored.writes)
    persist: list[PendingWrite] = []
    extra = input_writes(writes)
    if command.update is not None:
        update, _ = interpret_output(spec, "__input__", command.update)
        P.check_keys(spec, "__input__", update, "Command(update=...)")
        extra = extra + update
        persist.append(PendingWrite(P.INPUT_TASK, P.WRITES, [list(w) for w in extra]))
    goto = command.goto
    if goto:
        targets = list(goto) if isinstance(goto, list | tuple) else [goto]
        targets = P.resolve_targets(spec, "__input__", targets, "Command(goto=...)")
        if targets:
            persist.append(PendingWrite(P.INPUT_TASK, P.NEXT, targets))
            writes.append(persist[-1])
    tasks = P.plan(cp, writes)
    if command.resume is not None:
        _assign_answers(cp, tasks, command.resume)
    return cp, tasks, extra, tuple(persist)


def _assign_answers(cp: Checkpoint, tasks: list[Task], resume: Any) -> None:
    if len(tasks) == 1 and not _is_mapping(resume):
        # Most resumes: a bare answer to the one interrupt of the one paused task
        # (what the general path below does for it, without its tables).
        task = tasks[0]
        if (
            task.writes is None
            and len(task.interrupts) == 1
            and not task.interrupts[0].get("schema")
        ):
            record = task.interrupts[0]
            task.new_answer = resume
            task.new_answer_site = record.get("site")
            task.answer_nested = bool(record.get("nested"))
            task.has_new_answer = True
            return
    paused = [(t, r) for t in tasks if not t.done for r in t.interrupts]
    open_tasks = [t for t in tasks if not t.done]
    if not paused:
        if len(open_tasks) == 1:
            # Paused at a static breakpoint: the answer goes to the task's first interrupt().
            open_tasks[0].new_answer = resume
            open_tasks[0].has_new_answer = True
            return
        raise NothingToResumeError(
            f"Thread {cp.thread_id!r} has no pending interrupt to answer"
            + (
                f" (next: {', '.join(t.name for t in open_tasks)})."
                if open_tasks
                else ": its run has finished."
            )
            + " Use invoke(None, config) to continue a run stopped at a breakpoint, or "
            "invoke(input, config) to start a new run."
        )
    by_id = {r["id"]: (t, r) for t, r in paused}
    if isinstance(resume, Mapping) and resume and all(isinstance(k, str) for k in resume):
        known = [k for k in resume if k in by_id]
        if known and len(known) == len(resume):
            answers = {k: resume[k] for k in known}
        elif all(_looks_like_id(k) for k in resume):
            unknown = [k for k in resume if k not in by_id]
            raise UnknownInterruptError(
                f"Command(resume=...) names interrupt id(s) {', '.join(map(repr, unknown))}, which "
                f"are not pending on thread {cp.thread_id!r}. Pending: "
                f"{', '.join(repr(i) for i in by_id)}. Read them from get_state(config).interrupts."
            )
        else:
            answers = None
    else:
        answers = None
    if answers is None:
        if len(paused) > 1:
            raise ResumeError(
                f"Thread {cp.thread_id!r} has {len(paused)} pending interrupts, so a single resume "
                "value is ambiguous. Answer them by id: Command(resume={interrupt.id: answer, ...}) "
                "with the ids from get_state(config).interrupts (you may answer some of them)."
            )
        answers = {paused[0][1]["id"]: resume}
    problems: list[str] = []
    for iid, value in answers.items():
        schema = by_id[iid][1].get("schema")
        if schema:
            problems.extend(
                f"{iid[:8]}: {p}" if len(answers) > 1 else p for p in validate_answer(value, schema)
            )
    if problems:
        raise ResumeValidationError(
            "The resume value does not fit the interrupt's response_schema: "
            + "; ".join(problems)
            + ". The thread is unchanged; resume again with a corrected answer.",
            problems=problems,
        )
    by_task: dict[int, list[str]] = {}
    for iid in answers:
        by_task.setdefault(id(by_id[iid][0]), []).append(iid)
    for iids in by_task.values():
        task, record = by_id[iids[0]]
        if record.get("nested") and len(task.interrupts) > 1:
            # Several interrupts of a graph this node invoked: pass the map on.
            task.new_answer = {iid: answers[iid] for iids_ in (iids,) for iid in iids_}
        else:
            task.new_answer = answers[iids[0]]
        task.new_answer_site = record.get("site")
        task.answer_nested = bool(record.get("nested"))
        task.has_new_answer = True
    for t in open_tasks:
        if t.interrupts and not t.has_new_answer:
            t.hold = True


_NOT_MAPPINGS = frozenset({str, int, float, bool, bytes, list, tuple, type(None)})


def _is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, without the ABC's Python code for the usual answers."""
    cls = type(value)
    if cls is dict:
        return True
    return cls not in _NOT_MAPPINGS and isinstance(value, Mapping)
