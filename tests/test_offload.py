"""offload(): blocking calls on worker threads, awaited like run_in_executor."""

from __future__ import annotations

import asyncio
import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pausegraph._offload import Crew, Lane, Outcome, offload


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    executor.shutdown(wait=True)


async def test_returns_the_value_computed_on_a_worker_thread(pool: ThreadPoolExecutor) -> None:
    loop_thread = threading.get_ident()
    value, thread = await offload(pool, lambda x: (x * 2, threading.get_ident()), 21)
    assert value == 42
    assert thread != loop_thread


async def test_exceptions_reach_the_awaiting_coroutine(pool: ThreadPoolExecutor) -> None:
    def boom() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        await offload(pool, boom)


async def test_stop_iteration_becomes_a_runtime_error(pool: ThreadPoolExecutor) -> None:
    def stop() -> None:
        raise StopIteration

    with pytest.raises(RuntimeError, match="StopIteration") as info:
        await offload(pool, stop)
    assert isinstance(info.value.__cause__, StopIteration)


async def test_many_concurrent_calls_each_get_their_own_result(pool: ThreadPoolExecutor) -> None:
    results = await asyncio.gather(*(offload(pool, pow, i, 2) for i in range(200)))
    assert results == [i * i for i in range(200)]


async def test_a_one_thread_executor_runs_calls_in_order() -> None:
    seen: list[int] = []
    with ThreadPoolExecutor(max_workers=1) as one:
        await asyncio.gather(*(offload(one, seen.append, i) for i in range(50)))
    assert seen == list(range(50))


async def test_a_call_cancelled_before_it_started_does_not_run() -> None:
    ran: list[str] = []
    gate = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as one:
        blocker = offload(one, gate.wait)  # holds the only thread
        queued = offload(one, ran.append, "queued")
        queued.cancel()
        gate.set()
        await blocker
        await offload(one, ran.append, "after")
    assert ran == ["after"]


async def test_a_lane_runs_calls_one_at_a_time_in_order(pool: ThreadPoolExecutor) -> None:
    lane = Lane(pool)
    seen: list[int] = []
    running = [0]
    overlaps: list[int] = []

    def record(i: int) -> int:
        running[0] += 1
        overlaps.append(running[0])
        seen.append(i)
        running[0] -= 1
        return i

    results = await asyncio.gather(*(lane.run(record, i) for i in range(100)))
    assert results == list(range(100))
    assert seen == list(range(100))
    assert max(overlaps) == 1


async def test_a_lane_keeps_working_after_it_went_idle_and_after_errors(
    pool: ThreadPoolExecutor,
) -> None:
    lane = Lane(pool)
    assert await lane.run(len, "abc") == 3
    await asyncio.sleep(0.01)  # the drain has finished: the next call starts a new one
    with pytest.raises(ZeroDivisionError):
        await lane.run(divmod, 1, 0)
    assert await lane.run(len, "ab") == 2


async def test_a_lane_call_cancelled_before_it_started_does_not_run(
    pool: ThreadPoolExecutor,
) -> None:
    lane = Lane(pool)
    ran: list[str] = []
    gate = threading.Event()
    blocker = lane.run(gate.wait)
    queued = lane.run(ran.append, "queued")
    queued.cancel()
    gate.set()
    await blocker
    await lane.run(ran.append, "after")
    assert ran == ["after"]


async def test_a_lane_on_a_shut_down_executor_refuses_and_stays_usable() -> None:
    dead = ThreadPoolExecutor(max_workers=1)
    dead.shutdown()
    lane = Lane(dead)
    with pytest.raises(RuntimeError):
        lane.run(len, "x")
    with pytest.raises(RuntimeError):  # still refused, not silently queued forever
        lane.run(len, "x")


async def test_a_lane_with_a_burst_runner_hands_it_what_queued_and_posts_each_outcome(
    pool: ThreadPoolExecutor,
) -> None:
    bursts: list[int] = []

    def burst(calls: Sequence[Callable[[], Any]]) -> list[Outcome]:
        bursts.append(len(calls))
        out: list[Outcome] = []
        for call in calls:
            try:
                out.append((None, call()))
            except BaseException as exc:
                out.append((exc, None))
        return out

    lane = Lane(pool, burst=burst)
    started, gate = threading.Event(), threading.Event()

    def wait_at_gate() -> None:
        started.set()
        gate.wait()

    blocker = lane.run(wait_at_gate)
    await asyncio.to_thread(started.wait)
    cancelled = lane.run(len, "never")
    calls = [lane.run(len, "ab"), lane.run(divmod, 1, 0), lane.run(next, iter([]))]
    cancelled.cancel()
    gate.set()
    await blocker
    done = await asyncio.gather(*calls, return_exceptions=True)
    assert done[0] == 2 and isinstance(done[1], ZeroDivisionError)
    assert isinstance(done[2], RuntimeError) and "StopIteration" in str(done[2])
    assert bursts == [1, 3]  # the blocker alone, then the rest at once (not the cancelled call)


# -- Crew ------------------------------------------------------------------------


async def test_a_crew_returns_values_and_raises_errors_from_worker_threads(
    pool: ThreadPoolExecutor,
) -> None:
    crew = Crew(pool, 2)
    loop_thread = threading.get_ident()
    value, thread = await crew.run(lambda x: (x * 2, threading.get_ident()), 21)
    assert value == 42 and thread != loop_thread
    with pytest.raises(KeyError, match="missing"):
        await crew.run(operator.getitem, {}, "missing")
    with pytest.raises(RuntimeError, match="StopIteration"):
        await crew.run(next, iter([]))
    results = await asyncio.gather(*(crew.run(pow, i, 2) for i in range(200)))
    assert results == [i * i for i in range(200)]


async def test_a_blocked_crew_call_never_holds_back_the_next(pool: ThreadPoolExecutor) -> None:
    # Each call waits until both have started: they must run at once, on two threads.
    crew = Crew(pool, 2)
    barrier = threading.Barrier(2, timeout=5)
    threads = await asyncio.gather(
        crew.run(lambda: (barrier.wait(), threading.get_ident())[1]),
        crew.run(lambda: (barrier.wait(), threading.get_ident())[1]),
    )
    assert len(set(threads)) == 2


async def test_a_crew_runs_at_most_size_calls_at_once_in_order() -> None:
    running = [0]
    peak: list[int] = []
    started: list[int] = []
    lock = threading.Lock()

    def record(i: int) -> int:
        with lock:
            started.append(i)
            running[0] += 1
            peak.append(running[0])
        threading.Event().wait(0.001)
        with lock:
            running[0] -= 1
        return i

    with ThreadPoolExecutor(max_workers=8) as big:
        crew = Crew(big, 3)
        results = await asyncio.gather(*(crew.run(record, i) for i in range(60)))
        assert results == list(range(60))
        assert max(peak) <= 3
        one = Crew(big, 1)  # one thread: calls run one at a time, in order
        started.clear()
        await asyncio.gather(*(one.run(record, i) for i in range(30)))
        assert started == list(range(30))


async def test_a_crew_call_cancelled_before_it_started_does_not_run(
    pool: ThreadPoolExecutor,
) -> None:
    crew = Crew(pool, 1)
    ran: list[str] = []
    gate = threading.Event()
    blocker = crew.run(gate.wait)
    queued = crew.run(ran.append, "queued")
    queued.cancel()
    gate.set()
    await blocker
    await asyncio.sleep(0.01)  # the drain has finished: the next call starts a new one
    await crew.run(ran.append, "after")
    assert ran == ["after"]


async def test_a_crew_on_a_shut_down_executor_refuses_and_stays_usable() -> None:
    dead = ThreadPoolExecutor(max_workers=1)
    dead.shutdown()
    crew = Crew(dead, 2)
    with pytest.raises(RuntimeError):
        crew.run(len, "x")
    with pytest.raises(RuntimeError):  # still refused, not silently queued forever
        crew.run(len, "x")
    with pytest.raises(ValueError, match="size=0"):
        Crew(dead, 0)
