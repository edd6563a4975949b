"""The pure heart of the engine: plan a step's tasks, fold their writes into the next checkpoint.

Nothing here does I/O or calls user code except routers (``route``), which
are user functions by nature. The sync and async drivers share every
decision through these functions.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pausegraph.channels import MISSING, Channel, LastValue
from pausegraph.checkpoint._records import Checkpoint, PendingWrite, TaskRef
from pausegraph.constants import END
from pausegraph.errors import InvalidRouteError, InvalidUpdateError
from pausegraph.runtime._context import digest
from pausegraph.types import Send

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec


__all__ = [
    "DERIVED",
    "INPUT_TASK",
    "Task",
    "apply_writes",
    "initial_values",
    "next_frontier",
    "plan",
    "run_key",
    "triggers",
]

PULL = "__pregel_pull"
PUSH = "__pregel_push"
INPUT_TASK = "00000000-0000-0000-0000-000000000000"
"""Task id under which a resume's ``Command(update=..., goto=...)`` is stored."""

DEFERRED = "defer"
"""Barrier key of the deferred nodes that were triggered and wait for the end."""

DERIVED = "\x00derived"
"""Stands for a finished task's write that the next checkpoint stores verbatim."""

# Pending-write channels (see PendingWrite).
WRITES, NEXT, INTERRUPTS, ANSWERS, ERROR, JOURNAL = (
    "__writes__",
    "__next__",
    "__interrupt__",
    "__resume__",
    "__error__",
    "__journal__",
)


class Task:
    """One node call of a step, with what earlier runs of it left behind.

    Attributes:
        id: Deterministic: the same checkpoint always plans the same ids
            (computed on first use; runs without a checkpointer rarely need it).
        name: The node.
        path: ``("__pregel_pull", name)`` or ``("__pregel_push", index, False)``.
        ref: The frontier entry this task comes from.
        writes: The state writes, once the task finished (``None`` before).
        next: Where the task routes (node names and ``Send``\\ s), once finished.
        answers: ``[site, value]`` answers to its ``interrupt()`` calls so far.
        journal: Saved results of its ``once()`` calls.
        interrupts: Pending interrupt records (``{"value", "id", "site", "schema"}``).
        error: The exception (or its stored repr) of the last failed run.
        new_answer: A resume value for its next unanswered ``interrupt()``.
        new_answer_site: Where the interrupt it answers was raised.
        answer_nested: The answer is for a graph this node invokes.
        hold: Stay paused without running (its interrupt was not answered by
            this resume).
        at_breakpoint: A graph this node invokes stopped at one of its static
            breakpoints, so the node stopped too, with no interrupt.
        saved: Its writes are already stored (parallel steps save each task as it ends).
        step: The step it runs in (its checkpoint's step + 1).
    """

    __slots__ = (
        "_cp",
        "_id",
        "_index",
        "_ns",
        "answer_nested",
        "answers",
        "at_breakpoint",
        "error",
        "has_new_answer",
        "hold",
        "interrupts",
        "journal",
        "name",
        "new_answer",
        "new_answer_site",
        "next",
        "output",
        "path",
        "ref",
        "saved",
        "step",
        "writes",
    )

    def __init__(
        self,
        cp_id: str,
        ns: str,
        index: int | str,
        name: str,
        path: tuple[Any, ...],
        ref: TaskRef,
        step: int = 0,
    ) -> None:
        self._cp = cp_id
        self.step = step
        self._ns = ns
        self._index = index
        self._id: str | None = None
        self.name = name
        self.path = path
        self.ref = ref
        self.writes: list[tuple[str, Any]] | None = None
        self.next: list[Any] | None = None
        self.answers: list[list[Any]] = []
        self.journal: list[Any] = []
        self.interrupts: list[dict[str, Any]] = []
        self.error: BaseException | str | None = None
        self.new_answer: Any = None
        self.new_answer_site: Any = None
        self.has_new_answer = False
        self.answer_nested = False
        self.hold = False
        self.at_breakpoint = False
        self.saved = False
        self.output: Any = None

    @property
    def id(self) -> str:
        """The task's deterministic id."""
        if self._id is None:
            self._id = task_id(self._cp, self._ns, self.name, self._index)
        return self._id

    @property
    def done(self) -> bool:
        """The task finished (its writes are known)."""
        return self.writes is not None

    def __repr__(self) -> str:
        return f"Task({self.name!r}, {self.path!r})"


def task_id(checkpoint_id: str, ns: str, name: str, index: int | str) -> str:
    """The deterministic id of a task planned from ``checkpoint_id``."""
    h = digest(f"{checkpoint_id}|{ns}|{name}|{index}".encode(), 16)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def initial_values(spec: GraphSpec) -> dict[str, Any]:
    """Values of a brand-new thread: reducer keys start at their type's empty value."""
    out: dict[str, Any] = {}
    for key, channel in spec.channels.items():
        value = channel.initial()
        if value is not MISSING:
            out[key] = value
    return out


def plan(cp: Checkpoint, writes: Sequence[PendingWrite] = ()) -> list[Task]:
    """The tasks of the step after ``cp``, restored with their pending writes."""
    tasks: list[Task] = []
    step = cp.step + 1
    for index, ref in enumerate(cp.frontier):
        if ref.push:
            tasks.append(Task(cp.id, cp.ns, index, ref.node, (PUSH, index, False), ref, step))
        else:
            tasks.append(Task(cp.id, cp.ns, ref.node, ref.node, (PULL, ref.node), ref, step))
    if writes:
        for w in writes:
            if w.task_id == INPUT_TASK and w.channel == NEXT:
                tasks.extend(goto_tasks(cp, w.value, tasks))
        by_id: dict[str, Task] = {}
        for task in tasks:
            by_id[task.id] = task
        for w in writes:
            t = by_id.get(w.task_id)
            if t is None:
                continue
            if w.channel == WRITES:
                t.writes = [(k, v) for k, v in w.value]
                t.saved = True
            elif w.channel == NEXT:
                t.next = list(w.value)
            elif w.channel == ANSWERS:
                t.answers = [list(a) for a in w.value]
            elif w.channel == JOURNAL:
                t.journal = list(w.value)
            elif w.channel == INTERRUPTS:
                t.interrupts = list(w.value)
            elif w.channel == ERROR:
                t.error = w.value
    return tasks


def goto_tasks(cp: Checkpoint, targets: Iterable[Any], existing: Sequence[Task]) -> list[Task]:
    """Extra tasks a resume's ``Command(goto=...)`` adds to the step after ``cp``."""
    names = {t.name for t in existing if t.path[0] == PULL}
    out: list[Task] = []
    offset, step = len(cp.frontier), cp.step + 1
    for i, target in enumerate(targets):
        if isinstance(target, Send):
            ref = TaskRef(target.node, True, target.arg)
            index = offset + i
            out.append(Task(cp.id, cp.ns, index, ref.node, (PUSH, index, False), ref, step))
        elif target not in names:
            names.add(target)
            out.append(Task(cp.id, cp.ns, target, target, (PULL, target), TaskRef(target), step))
    return out


def write_order(tasks: Iterable[Task]) -> list[Task]:
    """Tasks in the order their writes apply: edge tasks by node name, then ``Send``\\ s."""
    if not isinstance(tasks, list) or len(tasks) > 1:
        return sorted(
            tasks, key=lambda t: (1, t.path[1], "") if t.path[0] == PUSH else (0, 0, t.name)
        )
    return tasks


def run_key(task: Task) -> tuple[int, int, str]:
    """Sort key of LangGraph's start order within a step: Sends first (in order), then nodes by name."""
    return (0, task.path[1], "") if task.path[0] == PUSH else (1, 0, task.name)


def triggers(spec: GraphSpec | None, task: Task) -> tuple[str, ...]:
    """LangGraph's name for what triggered ``task`` (tasks/debug streams, messages metadata).

    Without ``spec`` the joins that lead to the node are left out.
    """
    if task.path[0] == PUSH:
        return (PUSH,)
    if spec is None or not spec.joins:
        return (f"branch:to:{task.name}",)
    joins = sorted(
        f"join:{'+'.join(sources)}:{target}"
        for sources, target in spec.joins
        if target == task.name
    )
    return (f"branch:to:{task.name}", *joins)


def channel_of(spec: GraphSpec, key: str) -> Channel:
    """The channel of ``key`` (a fresh last-value one for free-form ``dict`` states)."""
    channel = spec.channels.get(key)
    if channel is None:
        return LastValue(key)
    return channel


def apply_writes(
    spec: GraphSpec,
    values: Mapping[str, Any],
    batches: Iterable[tuple[str, Sequence[tuple[str, Any]]]],
) -> tuple[dict[str, Any], list[str]]:
    """Fold writes into ``values``.

    Args:
        batches: ``(writer name, [(key, value), ...])`` in application order.

    Returns:
        The new values and the keys that were written.

    Raises:
        InvalidUpdateError: A key without a reducer got two values.
    """
    if isinstance(batches, list) and len(batches) == 1:
        # One writer (most steps): each key gets one value, unless written twice.
        writer, writes = batches[0]
        if len(writes) < 2 or len({k for k, _ in writes}) == len(writes):
            new = dict(values)
            channels = spec.channels
            keys = []
            for key, value in writes:
                keys.append(key)
                channel = channels.get(key) or LastValue(key)
                folded = channel.fold(new.get(key, MISSING), (value,), (writer,))
                if folded is MISSING:
                    new.pop(key, None)
                else:
                    new[key] = folded
            return new, keys
    grouped: dict[str, tuple[list[Any], list[str]]] = {}
    for writer, writes in batches:
        for key, value in writes:
            entry = grouped.get(key)
            if entry is None:
                grouped[key] = ([value], [writer])
            else:
                entry[0].append(value)
                entry[1].append(writer)
    if not grouped:
        return dict(values), []
    new = dict(values)
    for key, (vals, writers) in grouped.items():
        channel = channel_of(spec, key)
        current = new.get(key, MISSING)
        folded = channel.fold(current, vals, writers)
        if folded is MISSING:
            new.pop(key, None)
        else:
            new[key] = folded
    return new, list(grouped)


MAX_CHAIN = 1024
"""Appended chunks a list key may collect before it is stored whole again (bounds reads)."""


def new_versions(
    spec: GraphSpec,
    cp: Checkpoint,
    values: Mapping[str, Any],
    changed: Iterable[str],
    new_id: str,
) -> tuple[dict[str, str], dict[str, int], dict[str, list[Any]]]:
    """Versions, chains and appended chunks of the checkpoint after ``cp``.

    A key whose new value only appends to its old list (``operator.add`` or
    ``add_messages`` on a list) keeps its snapshot version and gains one chunk
    holding the appended items; any other change stores the key whole.
    """
    versions = dict(cp.versions)
    chains = dict(cp.chains)
    appended: dict[str, list[Any]] = {}
    for key in changed:
        if key not in values:
            versions.pop(key, None)
            chains.pop(key, None)
            continue
        channel = spec.channels.get(key)
        if channel is not None and channel.appends and key in cp.versions:
            count = chains.get(key, 0)
            items = _appended(cp.values.get(key), values[key], channel)
            if items is not None and count < MAX_CHAIN:
                if items:
                    chains[key] = count + 1
                    appended[key] = items
                continue
        versions[key] = new_id
        chains.pop(key, None)
    return versions, chains, appended


def _appended(old: Any, new: Any, channel: Channel) -> list[Any] | None:
    """The items ``new`` appends to ``old``, or ``None`` if it changed them otherwise."""
    if type(old) is not list or type(new) is not list or len(new) < len(old):
        return None
    n = len(old)
    # operator.add always keeps the old list as the prefix; add_messages may replace by id.
    keeps_prefix = getattr(channel, "reducer", None) is operator.add or all(
        a is b or a == b for a, b in zip(old, new[:n], strict=True)
    )
    if not keeps_prefix:
        return None
    return new[n:]


def check_keys(
    spec: GraphSpec, node: str, writes: Sequence[tuple[str, Any]], who: str | None = None
) -> None:
    """Refuse writes to keys no schema declares.

    Args:
        who: Names the writer in the message (default ``Node '<node>'``).

    Raises:
        InvalidUpdateError: Names the writer, the key and the keys that exist.
    """
    if spec.state.kind == "dict":
        return
    channels = spec.channels
    for key, _ in writes:
        if key not in channels:
            known = ", ".join(repr(k) for k in channels) or "(none)"
            raise InvalidUpdateError(
                f"{who or f'Node {node!r}'} wrote key {key!r}, which the state schema "
                f"{getattr(spec.state.cls, '__name__', spec.state.cls)} does not declare "
                f"(keys: {known}). Add {key!r} to the schema, or stop returning it."
            )


def resolve_targets(spec: GraphSpec, source: str, items: Iterable[Any], what: str) -> list[Any]:
    """Check that routing results name real nodes; drop ``END``.

    Raises:
        InvalidRouteError: A name is not a node of the graph.
    """
    out: list[Any] = []
    for item in items:
        if isinstance(item, Send):
            if item.node not in spec.nodes:
                raise InvalidRouteError(
                    f"{what} sent to unknown node {item.node!r}; known nodes: "
                    f"{', '.join(repr(n) for n in spec.nodes)}."
                )
            out.append(item)
        elif item == END or item is None:
            continue
        elif isinstance(item, str) and item in spec.nodes:
            out.append(item)
        else:
            raise InvalidRouteError(
                f"{what} returned {item!r}, which is not a node of the graph; known nodes: "
                f"{', '.join(repr(n) for n in spec.nodes)}, or END. Return one of these, or add "
                "a path_map that maps the result to a node."
            )
    return out


def next_frontier(
    spec: GraphSpec,
    cp: Checkpoint,
    finished: Sequence[tuple[str, Sequence[Any]]],
    keep: Sequence[TaskRef] = (),
) -> tuple[tuple[TaskRef, ...], dict[str, tuple[str, ...]]]:
    """The tasks of the next step and the new join barriers.

    Args:
        finished: ``(node, its routing results)`` for every task that finished.
        keep: Frontier entries carried over unchanged (``update_state`` keeps
            the tasks of nodes other than ``as_node``).

    Returns:
        ``Send`` tasks in order, then edge tasks in node order (LangGraph's order
        for ``get_state``); and the barriers.
    """
    if not keep and not cp.barriers and not spec.joins and not spec.deferred:
        # Fast path (most steps): no joins to track, nothing carried over.
        if len(finished) == 1:
            targets = finished[0][1]
            if len(targets) == 1 and type(targets[0]) is str:
                return (spec.pull_refs[targets[0]],), {}
        order = spec.node_order
        names: set[str] = set()
        refs: list[TaskRef] = []
        for _node, targets in finished:
            for target in targets:
                if type(target) is str:
                    names.add(target)
                else:
                    refs.append(TaskRef(target.node, True, target.arg))
        pull_refs = spec.pull_refs
        if len(names) == 1:
            pulls = [pull_refs[next(iter(names))]]
        else:
            pulls = [pull_refs[n] for n in sorted(names, key=order.__getitem__)]
        return (*refs, *pulls), {}

    pulled: set[str] = set()
    pushes: list[TaskRef] = []
    for ref in keep:
        if ref.push:
            pushes.append(ref)
        else:
            pulled.add(ref.node)
    barriers = {k: set(v) for k, v in cp.barriers.items()}
    for node, targets in finished:
        for target in targets:
            if isinstance(target, Send):
                pushes.append(TaskRef(target.node, True, target.arg))
            else:
                pulled.add(target)
        for index in spec.joins_by_source.get(node, ()):
            sources, target = spec.joins[index]
            arrived = barriers.setdefault(str(index), set())
            arrived.add(node)
            if arrived.issuperset(sources):
                barriers.pop(str(index))
                if target != END:
                    pulled.add(target)
    if spec.deferred:
        # Deferred nodes wait (under DEFERRED) until nothing else is left to run.
        waiting = set(barriers.pop(DEFERRED, ())) | (pulled & spec.deferred)
        pulled -= spec.deferred
        if pulled or pushes:
            if waiting:
                barriers[DEFERRED] = waiting
        else:
            pulled = waiting
    pulls = [spec.pull_refs[n] for n in sorted(pulled, key=spec.node_order.__getitem__)]
    return (*pushes, *pulls), {k: tuple(sorted(v)) for k, v in barriers.items() if v}
