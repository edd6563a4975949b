"""Performing the run loop's store effects on a saver: the one dispatch both drivers share."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pausegraph.runtime._loop import LOAD, SAVE, WRITES, Effect

if TYPE_CHECKING:
    from pausegraph.checkpoint.capabilities import SaveItem, WritesItem

# The checkpoint modules (and the serializer they pull in) are imported when a
# run first needs them, not with pausegraph.graph: `import` has a 50 ms budget.

__all__ = [
    "batch_items",
    "batches",
    "blocks",
    "is_last_write",
    "perform_async",
    "perform_batch_async",
    "perform_batch_sync",
    "perform_sync",
]


def perform_sync(saver: Any, effect: Effect) -> Any:
    """Perform a LOAD, SAVE or WRITES effect; returns what a LOAD loaded (else ``None``)."""
    kind = effect[0]
    if kind == SAVE:
        saver.save(effect[1], effect[2], final=effect[3])
    elif kind == WRITES:
        saver.save_writes(effect[1], effect[2], effect[3], effect[4])
    elif kind == LOAD:
        return saver.load(effect[1], effect[2], effect[3])
    return None


async def perform_async(saver: Any, effect: Effect) -> Any:
    """Async :func:`perform_sync`."""
    kind = effect[0]
    if kind == SAVE:
        await saver.asave(effect[1], effect[2], final=effect[3])
    elif kind == WRITES:
        await saver.asave_writes(effect[1], effect[2], effect[3], effect[4])
    elif kind == LOAD:
        return await saver.aload(effect[1], effect[2], effect[3])
    return None


def batch_items(effects: Sequence[Effect]) -> list[SaveItem | WritesItem]:
    """SAVE and WRITES effects as the items of ``BatchedWrites.write_batch``."""
    from pausegraph.checkpoint.capabilities import SaveItem, WritesItem

    return [
        SaveItem(e[1], e[2]) if e[0] == SAVE else WritesItem(e[1], e[2], e[3], e[4])
        for e in effects
    ]


def is_last_write(effect: Effect) -> bool:
    """Whether ``effect`` is the run's last write (``final`` on a SAVE or WRITES)."""
    kind = effect[0]
    return bool((kind == SAVE and effect[3]) or (kind == WRITES and effect[5]))


def perform_batch_sync(saver: Any, effects: Sequence[Effect], release: str | None = None) -> None:
    """Store SAVE and WRITES effects in order: in one call when the saver batches writes.

    ``release`` (a lease owner) is only given with a batching saver, for a
    batch that ends with the run's last write.
    """
    if len(effects) == 1:
        perform_sync(saver, effects[0])
        return
    if batches(saver):
        final = is_last_write(effects[-1])
        saver.write_batch(batch_items(effects), final=final, release=release)
        return
    for effect in effects:
        perform_sync(saver, effect)


async def perform_batch_async(
    saver: Any, effects: Sequence[Effect], release: str | None = None
) -> None:
    """Async :func:`perform_batch_sync`."""
    if len(effects) == 1:
        await perform_async(saver, effects[0])
        return
    if batches(saver):
        final = is_last_write(effects[-1])
        await saver.awrite_batch(batch_items(effects), final=final, release=release)
        return
    for effect in effects:
        await perform_async(saver, effect)


_batching: dict[type, bool] = {}


def batches(saver: Any) -> bool:
    """Whether ``saver`` offers ``BatchedWrites``."""
    # Asked once per class: isinstance() against a Protocol walks its attributes.
    cls = type(saver)
    known = _batching.get(cls)
    if known is None:
        from pausegraph.checkpoint.capabilities import BatchedWrites

        known = _batching[cls] = issubclass(cls, BatchedWrites)
    return known


_blocking: dict[type, tuple[tuple[str, Any], ...] | None] = {}  # (name, the class's function)


@cache
def _twins() -> tuple[tuple[type, tuple[str, ...]], ...]:
    """The async methods a run calls on its saver, by the class that defines them as blocking twins."""
    from pausegraph.checkpoint.base import BaseCheckpointSaver
    from pausegraph.checkpoint.capabilities import BlockingAsyncTwins, BlockingFoldedTwins

    return (
        (BaseCheckpointSaver, ("aload", "asave", "asave_writes")),
        (BlockingAsyncTwins, ("aacquire_lease", "arelease_lease")),
        (
            BlockingFoldedTwins,
            ("aload_leased", "asave_released", "asave_writes_released", "awrite_batch"),
        ),
    )


def blocks(saver: Any) -> bool:
    """Whether every async method a run calls on ``saver`` only calls its sync twin.

    Then the async driver calls the sync methods itself: the same calls, in the
    same order, on the event loop as before, without a coroutine per call. A
    saver (class, subclass or instance) that defines any of them itself is
    awaited as usual.
    """
    cls = type(saver)
    if cls in _blocking:
        methods = _blocking[cls]
    else:  # the twins the class has, or None when it defines one itself
        present = [
            (name, getattr(cls, name, None), getattr(owner, name))
            for owner, names in _twins()
            for name in names
        ]
        own = any(method not in (None, twin) for _, method, twin in present)
        methods = _blocking[cls] = (
            None if own else tuple((n, m) for n, m, _ in present if m is not None)
        )
    if methods is None:
        return False
    # An instance attribute (a test double, say) wins over the class's method. (Not
    # asked through __dict__: on 3.11 that turns the saver's attributes into a dict.)
    for name, method in methods:  # a loop, not all(<genexpr>): asked on every async run
        if getattr(getattr(saver, name), "__func__", None) is not method:
            return False
    return True
