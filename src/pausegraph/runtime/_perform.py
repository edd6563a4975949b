"""Performing the run loop's store effects on a saver: the one dispatch both drivers share."""

from __future__ import annotations

from typing import Any

from pausegraph.runtime._loop import LOAD, SAVE, WRITES, Effect

__all__ = ["perform_async", "perform_sync"]


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
