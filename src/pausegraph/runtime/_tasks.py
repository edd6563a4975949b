"""Running one task: call the node, retry, read its output, route — written once.

:func:`task_flow` is a generator that yields the calls it needs
(:class:`Call`, :class:`Sleep`); the sync driver performs them directly and
the async driver awaits them. So retries, output handling and routing exist
in one place for both.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.constants import START
from pausegraph.errors import (
    GraphInterrupt,
    InvalidRouteError,
    InvalidUpdateError,
    NodeInterrupt,
    ParentCommand,
)
from pausegraph.runtime._context import RunScope, TaskContext
from pausegraph.runtime._planner import Task, apply_writes, check_keys, resolve_targets
from pausegraph.runtime._public import runtime_for, store_of
from pausegraph.types import Command, Send

if TYPE_CHECKING:
    from pausegraph.graph._spec import Branch, GraphSpec, NodeSpec


__all__ = ["Call", "Sleep", "add_note", "task_flow"]


class Call:
    """Ask the driver to call ``fn(arg, **kwargs)`` with ``ctx`` as the current task."""

    __slots__ = ("arg", "ctx", "fn", "is_async", "kwargs")

    def __init__(
        self,
        fn: Callable[..., Any],
        arg: Any,
        kwargs: dict[str, Any],
        ctx: TaskContext | None,
        is_async: bool,
    ) -> None:
        self.fn = fn
        self.arg = arg
        self.kwargs = kwargs
        self.ctx = ctx
        self.is_async = is_async


class Sleep:
    """Ask the driver to wait ``seconds`` before the next retry."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


TaskFlow = Generator["Call | Sleep", Any, None]


def add_note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` (``add_note`` on 3.11+, ``__notes__`` before)."""
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        notes = list(getattr(exc, "__notes__", []))
        notes.append(note)
        exc.__notes__ = notes  # type: ignore[attr-defined]


def kwargs_for(names: frozenset[str], config: dict[str, Any], writer: Any) -> dict[str, Any]:
    if not names:
        return {}
    out: dict[str, Any] = {}
    if "config" in names:
        out["config"] = config
    if "writer" in names:
        out["writer"] = writer
    if "runtime" in names:
        out["runtime"] = runtime_for(config, writer)
    if "store" in names:
        out["store"] = store_of(config)
    return out


def interpret_output(
    spec: GraphSpec, name: str, output: Any
) -> tuple[list[tuple[str, Any]], list[Any]]:
    """A node's return value as ``(state writes, goto targets)``.

    Raises:
        InvalidUpdateError: The output is not a dict, ``None``, a ``Command``
            or an instance of the state schema.
    """
    if type(output) is dict:
        return list(output.items()), []
    if output is None:
        return [], []
    if isinstance(output, Mapping):
        return list(output.items()), []
    if isinstance(output, Command):
        if output.graph == Command.PARENT:
            from pausegraph.errors import GraphRunError, ParentCommand
            from pausegraph.runtime._context import current_task

            if current_task.get() is not None:  # running as a subgraph: the parent routes
                raise ParentCommand(Command(update=output.update, goto=output.goto))
            raise GraphRunError(
                f"Node {name!r} returned Command(graph=Command.PARENT), but this graph has no "
                "parent: it is not running as a subgraph."
            )
        writes: list[tuple[str, Any]] = []
        if output.update is not None:
            if isinstance(output.update, list | tuple):
                writes = [(k, v) for k, v in output.update]
            else:
                writes = interpret_output(spec, name, output.update)[0]
        goto = output.goto
        gotos = list(goto) if isinstance(goto, list | tuple) else [goto] if goto else []
        return writes, gotos
    if isinstance(output, list | tuple) and output and all(isinstance(o, Command) for o in output):
        writes, gotos = [], []
        for item in output:
            w, g = interpret_output(spec, name, item)
            writes.extend(w)
            gotos.extend(g)
        return writes, gotos
    updates = spec.state.updates_from(output)
    if updates is not None:
        return list(updates.items()), []
    raise InvalidUpdateError(
        f"Expected dict, got {output}. Node {name!r} returned a {type(output).__name__}; a node "
        "must return a dict of state updates, None, or a Command."
    )


def input_writes(spec: GraphSpec, inp: Any) -> list[tuple[str, Any]]:
    """The writes a run's input makes, checked against the input schema.

    Raises:
        InvalidUpdateError: The input is not a dict (or schema instance), has a
            key the state lacks, or fails the pydantic schema.
    """
    if inp is None:
        return []
    # type() first: isinstance() against the Mapping ABC runs Python code.
    if type(inp) is not dict and not isinstance(inp, Mapping):
        updates = spec.input.updates_from(inp)
        if updates is None:
            raise InvalidUpdateError(
                f"Expected dict, got {inp}. The input of a run must be a dict of state values "
                f"(keys: {', '.join(spec.input.keys)}), None to continue a run, or a Command "
                "to resume one."
            )
        inp = updates
    writes = list(spec.input.validate_input(inp).items()) if inp else []
    check_keys(spec, START, writes, "The input")
    return writes


def _branch_results(branch: Branch, result: Any) -> list[Any]:
    items = list(result) if isinstance(result, list | tuple) else [result]
    if branch.path_map is None:
        return items
    out: list[Any] = []
    for item in items:
        if isinstance(item, Send):
            out.append(item)
            continue
        try:
            out.append(branch.path_map[item])
        except (KeyError, TypeError):
            raise InvalidRouteError(
                f"Conditional edge {branch.name!r} from {branch.source!r} returned {item!r}, which "
                f"is not a key of its path_map {dict(branch.path_map)!r}. Return one of its keys, "
                "or add the result to the path_map."
            ) from None
    return out


def task_flow(
    spec: GraphSpec,
    task: Task,
    values: Mapping[str, Any],
    scope: RunScope,
) -> TaskFlow:
    """Run ``task`` to completion, recording its outcome on the task.

    On return exactly one of these holds: ``task.writes``/``task.next`` are set
    (finished), ``task.interrupts`` is non-empty (paused), ``task.error`` is
    set (failed).
    """
    name = task.name
    node = spec.nodes.get(name)
    task.error = None
    task.interrupts = []
    task.at_breakpoint = False
    if name == START:
        output: Any = task.ref.arg
    else:
        assert node is not None
        arg = node_input(node, task, values)
        kwargs = kwargs_for(node.kwargs, scope.config, scope.writer)
        attempt = 0
        while True:
            attempt += 1
            ctx = task_context(task, scope)
            try:
                output = yield Call(node.fn, arg, kwargs, ctx, node.is_async)
            except ParentCommand as pc:  # a subgraph this node runs routed this graph
                output = pc.command
            except GraphInterrupt as gi:
                paused(task, ctx, gi)
                return
            except Exception as exc:
                policy = next((p for p in node.retry if p.should_retry(exc)), None)
                if policy is not None and attempt < policy.max_attempts:
                    yield Sleep(policy.delay(attempt))
                    continue
                failed(task, ctx, exc)
                return
            keep_answers(task, ctx)
            break
    yield from finish_flow(spec, task, values, output, config=scope.config, writer=scope.writer)


def plain_call(spec: GraphSpec, task: Task, scope: RunScope) -> Call | None:
    """The one call of a task that needs no flow, or ``None`` when it needs one.

    A node without retries or routers (most of them) makes exactly one call:
    the drivers set its ``arg`` (:func:`node_input`), make it and pass what it
    did to :func:`finish_call`, which saves the generator round trips of
    :func:`task_flow`.
    """
    node = spec.nodes.get(task.name)
    if node is None or node.retry or node.name in spec.branches:
        return None
    task.error = None
    task.interrupts = []
    task.at_breakpoint = False
    kwargs = kwargs_for(node.kwargs, scope.config, scope.writer) if node.kwargs else {}
    return Call(node.fn, None, kwargs, task_context(task, scope), node.is_async)


def finish_input(spec: GraphSpec, task: Task) -> bool:
    """Finish the input step's task (``START``) without a flow; whether it could.

    It calls nothing unless conditional edges leave ``START`` (then it needs
    :func:`task_flow`); otherwise this records what ``task_flow`` would.
    """
    if START in spec.branches:
        return False
    task.error = None
    task.interrupts = []
    output = task.ref.arg
    try:
        writes = input_writes(spec, output)
    except Exception as exc:
        add_note(exc, f"During task with name {START!r} and id {task.id!r}")
        task.error = exc
        return True
    task.output = output
    task.writes = writes
    task.next = list(spec.successors.get(START, ()))
    return True


def finish_call(
    spec: GraphSpec, task: Task, call: Call, output: Any, error: BaseException | None
) -> None:
    """Record what a :func:`plain_call` returned (``output``) or raised (``error``).

    ``error`` is an ``Exception``, a :class:`GraphInterrupt` or a
    :class:`ParentCommand`; other exceptions stop the run, as in :func:`task_flow`.
    """
    ctx = call.ctx
    assert ctx is not None
    if isinstance(error, ParentCommand):  # a subgraph this node runs routed this graph
        output = error.command
    elif isinstance(error, GraphInterrupt):
        paused(task, ctx, error)
        return
    elif isinstance(error, Exception):
        failed(task, ctx, error)
        return
    task.answers = ctx.answers  # keep_answers(), inline
    task.journal = ctx.journal
    task.has_new_answer = False
    finish_plain(spec, task, output)


def node_input(node: NodeSpec, task: Task, values: Mapping[str, Any]) -> Any:
    """What ``node`` receives: a ``Send``'s argument, or its view of the state."""
    return task.ref.arg if task.ref.push else node.input.view(values)


def task_context(task: Task, scope: RunScope) -> TaskContext:
    """The context a task's node runs in (its answers, journal, writer, saver)."""
    # Positional: on 3.11 a class called with keywords builds a dict for __init__,
    # which doubles the cost of making one per task.
    return TaskContext(
        task,
        [list(a) for a in task.answers] if task.answers else [],  # answers
        task.new_answer,
        task.has_new_answer,
        task.new_answer_site,
        task.journal,
        scope.writer,
        scope.config,
        scope.on_journal,
        scope.saver,
        scope.sink,
    )


def paused(task: Task, ctx: TaskContext, gi: GraphInterrupt) -> None:
    """Record that the node stopped on ``interrupt()`` (or a ``NodeInterrupt``)."""
    if isinstance(gi, NodeInterrupt):
        task.interrupts = [{"value": gi.value, "id": gi.given_id or "placeholder-id"}]
    else:
        records = getattr(gi, "records", None)
        if records is not None:  # from a graph this node invoked: keep its records
            task.interrupts = [dict(r, nested=True) for r in records]
            task.at_breakpoint = not records  # it stopped at a static breakpoint
        else:
            schema = _schema_record(getattr(gi, "response_schema", None))
            site = getattr(gi, "site", None)
            made = []  # a loop, not a comprehension: once per pause
            for i in gi.interrupts:
                made.append(_record(i.value, i.id, site, schema))
            task.interrupts = made
    keep_answers(task, ctx)


def failed(task: Task, ctx: TaskContext, exc: Exception) -> None:
    """Record that the node raised (after its retries)."""
    add_note(exc, f"During task with name {task.name!r} and id {task.id!r}")
    task.error = exc
    keep_answers(task, ctx)


def finish_plain(spec: GraphSpec, task: Task, output: Any) -> None:
    """:func:`finish_flow` for a node without routers (nothing to call)."""
    name = task.name
    try:
        writes, gotos = interpret_output(spec, name, output)
        if writes:
            check_keys(spec, name, writes)
        successors = spec.successors.get(name, ())
        if gotos:
            targets = [
                *successors,
                *resolve_targets(spec, name, gotos, f"Command(goto=...) from node {name!r}"),
            ]
        else:
            targets = list(successors)
    except Exception as exc:
        add_note(exc, f"During task with name {name!r} and id {task.id!r}")
        task.error = exc
        return
    task.output = output
    task.writes = writes
    task.next = targets


def finish_flow(
    spec: GraphSpec,
    task: Task,
    values: Mapping[str, Any],
    output: Any,
    *,
    config: dict[str, Any],
    writer: Callable[[Any], None] | None,
    who: str | None = None,
) -> TaskFlow:
    """Read a node's ``output`` and route it; sets ``task.writes``/``task.next`` or ``task.error``.

    Also used by ``update_state``, which applies an update as if a node had returned
    it (``who`` then names the call in error messages).
    """
    name = task.name
    try:
        if name == START:
            writes, gotos = input_writes(spec, output), list[Any]()
        else:
            writes, gotos = interpret_output(spec, name, output)
            check_keys(spec, name, writes, who)
        targets: list[Any] = list(spec.successors.get(name, ()))
        branches = spec.branches.get(name, ())
        if branches:
            local, _ = apply_writes(spec, values, [(name, writes)])
            view = spec.state.view(local)
            for branch in branches:
                result = yield Call(
                    branch.path,
                    view,
                    kwargs_for(branch.kwargs, config, writer),
                    None,
                    branch.is_async,
                )
                targets.extend(
                    resolve_targets(
                        spec,
                        name,
                        _branch_results(branch, result),
                        f"Conditional edge {branch.name!r} from {name!r}",
                    )
                )
        if gotos:
            targets.extend(
                resolve_targets(spec, name, gotos, f"Command(goto=...) from node {name!r}")
            )
    except Exception as exc:
        add_note(exc, f"During task with name {name!r} and id {task.id!r}")
        task.error = exc
        return
    task.output = output
    task.writes = writes
    task.next = targets


def _record(value: Any, iid: str, site: Any, schema: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"value": value, "id": iid}
    if site:
        record["site"] = site
    if schema:
        record["schema"] = schema
    return record


def keep_answers(task: Task, ctx: TaskContext) -> None:
    task.answers = ctx.answers
    task.journal = ctx.journal
    task.has_new_answer = False


def _schema_record(schema: Any) -> Any:
    if schema is None:
        return None
    from pausegraph.runtime._validate import schema_to_json

    return schema_to_json(schema)
