"""What may finish or prepare a step's tasks before they run, outside the plain run.

The node-result cache (``add_node(..., cache_policy=...)`` with
``compile(cache=...)``): tasks whose input it has seen finish with the saved
writes and routing; the others' results are saved after the step. And the
answer a parent hands a nested run that starts afresh, for its first
``interrupt()``. A mixin of :class:`~pausegraph.runtime._loop.RunLoop`, which
calls :meth:`PreStep._before_run` and :meth:`PreStep._after_run` around a
step only when ``_prestep`` is set: plain runs pay one attribute check.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from pausegraph.constants import START
from pausegraph.runtime._options import NO_ANSWER
from pausegraph.runtime._planner import Task

if TYPE_CHECKING:
    from pausegraph.graph._spec import GraphSpec

__all__ = ["PreStep"]

Effect = tuple[Any, ...]


class PreStep:
    """The node-result cache and a carried answer (see the module)."""

    spec: GraphSpec
    _prestep = False  # set when either has something to do (see use_cache, carry)
    cache: Any = None  # the graph's node-result cache (compile(cache=...)), if any
    # A parent's answer for a nested run that starts afresh: NO_ANSWER once handed.
    _carried: Any = NO_ANSWER
    _cache_misses: list[tuple[Task, Any, float | None]] | None = None

    if TYPE_CHECKING:  # the run loop's

        def task_done(self, task: Task, *, cached: bool = False) -> list[Effect]: ...

    def use_cache(self, cache: Any) -> None:
        """Look up and save the results of nodes with a cache policy in ``cache``."""
        self.cache = cache
        self._prestep = True

    def carry(self, answer: Any) -> None:
        """Hand ``answer`` to the first ``interrupt()`` of the first step that runs a node."""
        self._carried = answer
        self._prestep = True

    def _before_run(
        self, runnable: list[Task], values: Mapping[str, Any]
    ) -> Generator[Effect, Any, list[Task]]:
        """The tasks still to run after the cache's hits finished; a carried answer handed."""
        if self.cache is not None:
            runnable = yield from self._from_cache(runnable, values)
        if self._carried is not NO_ANSWER and runnable and runnable[0].name != START:
            self._hand_carried(runnable)
        return runnable

    def _after_run(self) -> None:
        if self._cache_misses:
            self._to_cache()

    def _hand_carried(self, runnable: list[Task]) -> None:
        """Give the carried answer to the first step's task, for its first ``interrupt()``.

        With several tasks it is unclear whose it is: none gets it, and the one
        that interrupts asks again (the parent then waits on that question).
        """
        answer, self._carried = self._carried, NO_ANSWER
        if len(runnable) == 1:
            task = runnable[0]
            task.new_answer = answer
            task.has_new_answer = True

    def _from_cache(
        self, runnable: list[Task], values: Mapping[str, Any]
    ) -> Generator[Effect, Any, list[Task]]:
        """Finish the tasks whose node's cache holds a result for their input; returns the rest.

        The others with a cache policy are noted, so their results are saved
        once they have run (see :meth:`_to_cache`).
        """
        spec, keyed = self.spec, []
        for t in runnable:
            node = spec.nodes.get(t.name)
            policy = node.cache if node is not None else None
            if policy is not None:
                arg = t.ref.arg if t.ref.push else node.input.view(values)  # type: ignore[union-attr]
                keyed.append((t, ((spec.name, t.name), str(policy.key_func(arg))), policy.ttl))
        if not keyed:
            return runnable
        found = self.cache.get([key for _, key, _ in keyed])
        hits: set[int] = set()
        misses = []
        for t, key, ttl in keyed:
            saved = found.get(key)
            if saved is None:
                misses.append((t, key, ttl))
                continue
            t.writes, t.next = list(saved[0]), list(saved[1])
            hits.add(id(t))
            yield from self.task_done(t, cached=True)  # effects whose results are None
        self._cache_misses = misses or None
        return [t for t in runnable if id(t) not in hits] if hits else runnable

    def _to_cache(self) -> None:
        """Save the results of the tasks :meth:`_from_cache` found no result for."""
        misses, self._cache_misses = self._cache_misses or [], None
        done = {
            key: ((list(t.writes), list(t.next or ())), ttl)
            for t, key, ttl in misses
            if t.writes is not None and t.error is None and not t.interrupts
        }
        if done:
            self.cache.set(done)
