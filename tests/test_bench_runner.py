"""The benchmark's runner: alternating rounds, each side keeping its best one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from bench import cli
from bench.results import Measurement, Outcome
from bench.targets import TARGETS


def measured(value: float) -> Outcome:
    return Outcome("ok", measurement=Measurement(value, "ns"))


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every worker the runner starts, in order; each takes 10 µs less than the one before."""
    calls: list[tuple[str, str]] = []

    def spawn(impl: str, name: str, quick: bool) -> Outcome:
        calls.append((impl, name))
        return measured(100_000 - 10_000 * len(calls))

    monkeypatch.setattr(cli, "spawn", spawn)
    return calls


def test_rounds_alternate_and_each_side_keeps_its_best(spawned: list[Any]) -> None:
    runner = cli.Runner(quick=False, rounds=2)
    out = runner.outcomes(["langgraph", "pausegraph"], "node_step_none", TARGETS["node_step_none"])
    assert spawned == [("langgraph", "node_step_none"), ("pausegraph", "node_step_none")] * 2
    assert {impl: o.measurement.value for impl, o in out.items()} == {  # type: ignore[union-attr]
        "langgraph": 70_000,
        "pausegraph": 60_000,
    }


def test_a_baseline_is_measured_once_and_shared(spawned: list[Any]) -> None:
    runner = cli.Runner(quick=True, rounds=1)
    impls = ["langgraph", "pausegraph"]
    runner.outcomes(impls, "node_step_postgres", TARGETS["node_step_postgres"])
    redis = runner.outcomes(impls, "node_step_redis", TARGETS["node_step_redis"])
    assert spawned == [
        ("langgraph", "node_step_postgres"),
        ("pausegraph", "node_step_postgres"),
        ("pausegraph", "node_step_redis"),  # LangGraph's figure is its Postgres one
    ]
    assert redis["langgraph"].measurement.value == 90_000  # type: ignore[union-attr]


def test_a_failed_round_does_not_hide_a_measured_one() -> None:
    failed = Outcome("error", "worker exited with 1: boom")
    assert cli.best([failed, measured(5.0), measured(7.0)]) == measured(5.0)
    assert cli.best([failed, Outcome("skipped", "no server")]) == failed


def test_rounds_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="at least 1"):
        cli.main(["--rounds", "0", "--only", "node_step_none"])


def test_keep_awake_runs_a_niced_busy_loop_only_while_the_block_runs() -> None:
    with cli.keep_awake(False) as spinner:
        assert spinner is None
    with cli.keep_awake(True) as spinner:
        assert spinner is not None
        time.sleep(0.2)  # let it start and lower its priority
        assert spinner.poll() is None  # still running
        stat = Path(f"/proc/{spinner.pid}/stat")
        if stat.exists():  # Linux: field 19 is the nice value
            assert int(stat.read_text().rsplit(")", 1)[1].split()[16]) == 19
    assert spinner.returncode is not None  # killed and reaped with the block
