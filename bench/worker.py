"""Subprocess entry: runs one workload on one implementation, prints JSON.

Usage: ``python -m bench.worker PREFIX WORKLOAD [--quick]``. The last stdout
line is an :class:`bench.results.Outcome` as JSON; anything the workload prints
goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from contextlib import redirect_stdout

from bench.graphs import Lib
from bench.results import Outcome
from bench.timing import Opts
from bench.workloads import WORKLOADS, Skip


def run(prefix: str, name: str, quick: bool) -> Outcome:
    """Runs workload ``name`` on the implementation ``prefix``, catching failures."""
    try:
        measurement = WORKLOADS[name](Lib(prefix), Opts.create(quick))
    except ImportError as exc:
        return Outcome("import_failed", str(exc))
    except Skip as exc:
        return Outcome("skipped", str(exc))
    except Exception as exc:
        traceback.print_exc()
        return Outcome("error", f"{type(exc).__name__}: {exc}")
    return Outcome("ok", measurement=measurement)


def main(argv: list[str] | None = None) -> int:
    """Parses arguments, runs the workload, writes the outcome to stdout."""
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("prefix")
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    out = sys.stdout
    with redirect_stdout(sys.stderr):
        outcome = run(args.prefix, args.workload, args.quick)
    out.write(json.dumps(outcome.to_json()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
