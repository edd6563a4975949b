"""Several OS processes on one durable store: one run per thread, and nothing lost to kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from _process_worker import open_saver
from _savers import REDIS_URL, postgres_schema, redis_saver

pytestmark = pytest.mark.slow

WORKER = str(Path(__file__).with_name("_process_worker.py"))
LEASE_SECONDS = "1.5"


@contextmanager
def store(kind: str, tmp_path: Path) -> Iterator[str]:
    """A location string the worker understands, for a fresh store of ``kind``."""
    if kind == "sqlite":
        yield str(tmp_path / "shared.db")
    elif kind == "postgres":
        with postgres_schema() as url:
            yield url
    else:
        with redis_saver(tmp_path):  # skips or fails when Redis is missing
            pass
        prefix = f"pausegraph-proc:{uuid.uuid4().hex}:"
        try:
            yield f"{REDIS_URL}|{prefix}"
        finally:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            stale = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if stale:
                client.unlink(*stale)
            client.close()


def _spawn(
    kind: str, location: str, mode: str, thread: str, effects: Path
) -> subprocess.Popen[str]:
    env = dict(os.environ, PAUSEGRAPH_LEASE_SECONDS=LEASE_SECONDS)
    src = str(Path(__file__).parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(
        [src, str(Path(__file__).parent), env.get("PYTHONPATH", "")]
    )
    return subprocess.Popen(
        [sys.executable, WORKER, kind, location, mode, thread, str(effects)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _run(kind: str, location: str, mode: str, thread: str, effects: Path) -> str:
    proc = _spawn(kind, location, mode, thread, effects)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.strip()


KINDS = ["sqlite", "postgres", "redis"]


@pytest.mark.parametrize("kind", KINDS)
def test_racing_resumes_charge_exactly_once(kind: str, tmp_path: Path) -> None:
    effects = tmp_path / "effects.txt"
    effects.touch()
    with store(kind, tmp_path) as location:
        assert _run(kind, location, "pause", "race", effects) == "paused"
        racers = [_spawn(kind, location, "resume", "race", effects) for _ in range(4)]
        outcomes = []
        for proc in racers:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            outcomes.append(out.strip())
    assert effects.read_text().splitlines() == ["charged yes"]
    assert outcomes.count("resumed") == 1
    assert set(outcomes) <= {"resumed", "busy", "nothing"}


@pytest.mark.parametrize("kind", KINDS)
def test_kill_9_mid_step_loses_nothing_committed(kind: str, tmp_path: Path) -> None:
    effects = tmp_path / "effects.txt"
    effects.touch()
    with store(kind, tmp_path) as location:
        crashing = _spawn(kind, location, "crash", "crash", effects)
        try:
            _wait_for_writes_of_a(kind, location)
        finally:
            os.kill(crashing.pid, signal.SIGKILL)
            crashing.wait(timeout=30)
        assert crashing.returncode == -signal.SIGKILL
        assert _run(kind, location, "recover", "crash", effects) == "a,b,c"
    # a's writes were committed before the kill: it did not run again; b had
    # not finished, so it ran again.
    assert effects.read_text().splitlines() == ["a ran", "b started", "b started"] or (
        effects.read_text().splitlines() == ["b started", "a ran", "b started"]
    )


def _wait_for_writes_of_a(kind: str, location: str) -> None:
    deadline = time.monotonic() + 30
    with open_saver(kind, location) as saver:
        while time.monotonic() < deadline:
            stored = saver.load("crash")
            if stored is not None and any(w.channel == "__writes__" for w in stored.writes):
                return
            time.sleep(0.05)
    pytest.fail("the first task's writes were never committed")
