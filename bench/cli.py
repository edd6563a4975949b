"""Command line: runs every selected workload on both implementations.

Each (implementation, workload) pair runs in a fresh subprocess of the same
interpreter (``python -m bench.worker``), with the checkout's ``src`` first on
``PYTHONPATH`` so the pausegraph being measured is the one in this repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from importlib import metadata
from pathlib import Path

from bench import floor
from bench.report import IMPLS, Row, failures, growth_table, table
from bench.results import Outcome
from bench.targets import TARGETS, Target
from bench.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT_S = 900
HINT = "LangGraph not installed (pip install -e '.[bench]'); running pausegraph alone."


def version(dist: str) -> str | None:
    """Returns the installed version of a distribution, or ``None``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def child_env() -> dict[str, str]:
    """Returns the environment for workers: this checkout's ``src`` first on the path.

    Bytecode may be written (``PYTHONDONTWRITEBYTECODE`` is dropped): otherwise
    every interpreter the ``import`` row starts compiles each module changed
    since its ``.pyc`` was last written, and the row measures the compiler.
    """
    env = os.environ.copy()
    paths = [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def spawn(prefix: str, name: str, quick: bool) -> Outcome:
    """Runs one workload on one implementation in a fresh subprocess."""
    cmd = [sys.executable, "-m", "bench.worker", prefix, name, *(["--quick"] if quick else [])]
    try:
        proc = subprocess.run(
            cmd,
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome("error", f"worker timed out after {WORKER_TIMEOUT_S} s")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return Outcome("error", f"worker exited with {proc.returncode}: {tail[0]}")
    return Outcome.from_json(json.loads(lines[-1]))


class Runner:
    """Spawns workers, each (implementation, workload) pair ``rounds`` times per benchmark run.

    The rounds alternate between the implementations (LangGraph, pausegraph,
    LangGraph, ...), and each side keeps its best round (every figure is
    lower-is-better), so a noisy minute hits both sides alike instead of
    deciding a ratio. A row whose target names a ``baseline`` compares against
    LangGraph on that workload (e.g. the Redis rows against its Postgres
    saver); the outcome is shared with that workload's own row.
    """

    def __init__(self, quick: bool, rounds: int = 1) -> None:
        """Remembers the repetition settings; nothing is run yet."""
        self.quick = quick
        self.rounds = rounds
        self.done: dict[tuple[str, str], Outcome] = {}

    def outcomes(self, impls: list[str], name: str, target: Target) -> dict[str, Outcome]:
        """Returns each of ``impls``' outcome for the row ``name``, running workers as needed."""
        runs = {}
        for impl in impls:
            if impl == "langgraph" and not target.compared:
                self.done.setdefault((impl, name), Outcome("not_applicable", target.note))
                runs[impl] = name
            else:
                runs[impl] = target.baseline if impl == "langgraph" and target.baseline else name
        todo = [(impl, run) for impl, run in runs.items() if (impl, run) not in self.done]
        tries: dict[tuple[str, str], list[Outcome]] = {pair: [] for pair in todo}
        for _ in range(self.rounds):
            for impl, run in todo:
                tries[impl, run].append(spawn(impl, run, self.quick))
        for pair, outcomes in tries.items():
            self.done[pair] = best(outcomes)
        return {impl: self.done[impl, run] for impl, run in runs.items()}


def best(outcomes: list[Outcome]) -> Outcome:
    """The measured outcome with the lowest figure; the first one when none was measured."""
    measured = [o for o in outcomes if o.measurement is not None]
    if not measured:
        return outcomes[0]
    return min(measured, key=lambda o: o.measurement.value if o.measurement else 0.0)


def check_registry() -> None:
    """Exits unless workloads and targets agree and every baseline is a workload."""
    missing = sorted(set(WORKLOADS) ^ set(TARGETS))
    if missing:
        raise SystemExit(f"workloads and targets disagree on: {', '.join(missing)}")
    for name, target in TARGETS.items():
        if target.baseline is not None and target.baseline not in WORKLOADS:
            raise SystemExit(f"{name}: baseline {target.baseline!r} is not a workload")


def select(patterns: list[str] | None) -> list[str]:
    """Returns workload names matching any pattern (exact, prefix, or glob), in TARGETS order.

    Raises:
        SystemExit: If a pattern matches nothing.
    """
    if not patterns:
        return list(TARGETS)
    wanted = [p for arg in patterns for p in arg.split(",") if p]
    for pattern in wanted:
        if not any(_matches(name, pattern) for name in TARGETS):
            raise SystemExit(f"no workload matches {pattern!r}; have: {', '.join(TARGETS)}")
    return [name for name in TARGETS if any(_matches(name, p) for p in wanted)]


def _matches(name: str, pattern: str) -> bool:
    return name.startswith(pattern) or fnmatch(name, pattern)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark pausegraph against LangGraph."
    )
    parser.add_argument("--json", metavar="PATH", type=Path, help="write results as JSON")
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        help="run only matching workloads (name, prefix or glob; comma-separated or repeated)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, one round")
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="worker runs per implementation and workload, alternating; each side keeps its "
        "best (default 2, 1 with --quick)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 unless every target passes"
    )
    parser.add_argument(
        "--keep-awake",
        action="store_true",
        help="run a lowest-priority busy loop beside the workers, so idle CPUs do not sleep "
        "between round trips (see bench/README.md); both libraries run under it",
    )
    return parser.parse_args(argv)


@contextmanager
def keep_awake(enabled: bool) -> Iterator[subprocess.Popen[bytes] | None]:
    """While the block runs, a ``nice 19`` busy loop keeps the machine's idle CPUs awake.

    On a VM whose idle CPUs take tens of µs to wake, every round trip to a
    local server pays that wake-up (the server's CPU went idle while the
    client worked): a busy loop that only gets otherwise idle time removes
    it, so the Postgres and Redis rows show the libraries, not the sleep
    states. It also takes CPU time a hyperthread sibling would have had.
    """
    if not enabled:
        yield None
        return
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import os; os.nice(19)\nwhile True: pass"],
        stdin=subprocess.DEVNULL,
    )
    try:
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


def progress(index: int, total: int, row: Row, seconds: float) -> None:
    """Writes one progress line for a finished workload to stderr."""
    cells = "  ".join(f"{impl} {row.cell(impl)}" for impl in row.outcomes)
    print(
        f"[{index:>2}/{total}] {row.workload:<26} {cells}  ({seconds:.1f} s)",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; returns the process exit status."""
    args = parse_args(argv)
    check_registry()
    names = select(args.only)
    impls = list(IMPLS)
    if version("langgraph") is None:
        print(HINT, file=sys.stderr)
        impls.remove("langgraph")
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 2)
    if rounds < 1:
        raise SystemExit(f"--rounds takes a whole number of at least 1, got {rounds}")
    runner = Runner(args.quick, rounds)
    rows = []
    with keep_awake(args.keep_awake):
        for index, name in enumerate(names, 1):
            start = time.perf_counter()
            outcomes = runner.outcomes(impls, name, TARGETS[name])
            rows.append(Row(name, TARGETS[name], outcomes))
            progress(index, len(names), rows[-1], time.perf_counter() - start)
        floors = floor.measure(names)
    print(table(rows))
    growth = growth_table(rows)
    if growth:
        print(f"\n{growth}")
    for line in failures(rows):
        print(line)
    if floors:
        print(f"\n{floor.describe(floors)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "versions": {impl: version(impl) for impl in IMPLS},
            "quick": args.quick,
            "rounds": rounds,
            "keep_awake": args.keep_awake,
            "results": [row.to_json() for row in rows],
            "round_trips_ns": floors,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    return 1 if args.check and any(row.verdict != "PASS" for row in rows) else 0
