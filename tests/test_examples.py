"""Runs every seed example under examples/ and compares its output with LangGraph's.

Each ``examples/seed*.py`` script runs in a subprocess (cwd = an empty temporary
directory); its stdout, with run-dependent ids and timestamps normalised, must equal
``examples/expected/<script>.txt`` exactly. The expected files hold what the same
script prints under LangGraph 1.2.22 (the import prefix swapped to ``langgraph``),
except for the scripts in ``DELIBERATE``, whose expected files hold pausegraph's
intended output (see ``examples/expected/DIFFERENCES.md``).

Regenerate the expected files from LangGraph (the reference interpreter defaults to
``/work/venv-ref/bin/python``; set ``LANGGRAPH_PYTHON`` to change it)::

    python tests/test_examples.py --regenerate [script_stem ...]

Scripts in ``DELIBERATE`` are not overwritten; their LangGraph output is printed
as a diff against the stored expectation instead.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXPECTED = EXAMPLES / "expected"
SCRIPTS = sorted(EXAMPLES.glob("seed*.py"))
TIMEOUT = 60
REFERENCE_PYTHON = os.environ.get("LANGGRAPH_PYTHON", "/work/venv-ref/bin/python")

# Scripts whose expected output is pausegraph's by design, not LangGraph's.
DELIBERATE = {
    "seed000_dynamic_interrupt": "Interrupt.resumable exists (removed in LangGraph 1.x)",
    "seed001_gotcha_resume_dict": "unknown state key in input raises InvalidUpdateError",
    "seed004_try_except_bare": "interrupt signal derives from BaseException",
    "seed004_interrupt_order_bad": "reordered/skipped interrupt() raises InterruptMismatchError",
}

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def normalise(text: str) -> str:
    """Replaces what changes on every run: ids, timestamps, object addresses."""
    text = _UUID.sub("<uuid>", text)
    text = _HEX32.sub("<id>", text)
    text = _TIMESTAMP.sub("<ts>", text)
    text = _ADDRESS.sub("0x<addr>", text)
    return text.replace("\r\n", "\n")


def run_script(python: str, script: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [python, str(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_example(script: Path, tmp_path: Path) -> None:
    expected_file = EXPECTED / f"{script.stem}.txt"
    assert expected_file.exists(), f"missing {expected_file}; run this file with --regenerate"
    expected = expected_file.read_text(encoding="utf-8")

    proc = run_script(sys.executable, script, tmp_path)
    actual = normalise(proc.stdout)

    if actual != expected or proc.returncode != 0:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"expected/{expected_file.name}",
                tofile=f"pausegraph {script.name}",
            )
        )
        stderr = proc.stderr.strip()
        pytest.fail(
            f"{script.name}: exit code {proc.returncode}\n{diff or '(stdout matches)'}"
            + (f"\n--- stderr (tail) ---\n{stderr[-3000:]}" if stderr else ""),
            pytrace=False,
        )
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert not leftovers, f"{script.name} left files behind in its working directory: {leftovers}"


# --- regenerating the expected files from LangGraph ---------------------------------

_IMPORT_PREFIX = re.compile(r"^(\s*)(from|import)(\s+)pausegraph\b", re.MULTILINE)


def to_langgraph(source: str) -> str:
    """The same script with the ``pausegraph`` import prefix swapped to ``langgraph``."""
    return _IMPORT_PREFIX.sub(r"\1\2\3langgraph", source)


def run_reference(script: Path) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as tmp:
        swapped = Path(tmp) / "script" / script.name
        swapped.parent.mkdir()
        swapped.write_text(to_langgraph(script.read_text(encoding="utf-8")), encoding="utf-8")
        work = Path(tmp) / "cwd"
        work.mkdir()
        return run_script(REFERENCE_PYTHON, swapped, work)


def regenerate(stems: list[str]) -> int:
    failures = 0
    for script in SCRIPTS:
        if stems and script.stem not in stems:
            continue
        proc = run_reference(script)
        output = normalise(proc.stdout)
        target = EXPECTED / f"{script.stem}.txt"
        if proc.returncode != 0:
            print(f"{script.stem}: LangGraph exited with {proc.returncode}")
            print(proc.stderr.strip()[-2000:])
        if script.stem in DELIBERATE:
            stored = target.read_text(encoding="utf-8") if target.exists() else ""
            diff = "".join(
                difflib.unified_diff(
                    stored.splitlines(keepends=True),
                    output.splitlines(keepends=True),
                    fromfile=f"expected/{target.name} (pausegraph, kept)",
                    tofile="LangGraph",
                )
            )
            print(f"{script.stem}: deliberate difference ({DELIBERATE[script.stem]}), kept")
            print(diff or "  (no difference)")
            continue
        if proc.returncode != 0:
            failures += 1
            continue
        target.write_text(output, encoding="utf-8")
        print(f"{script.stem}: wrote {target.relative_to(ROOT)}")
    return failures


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "--regenerate":
        sys.exit(f"usage: {sys.argv[0]} --regenerate [script_stem ...]")
    sys.exit(1 if regenerate(args[1:]) else 0)
