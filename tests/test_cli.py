"""The command line: `pausegraph demo` pauses, takes answers, survives quitting; `draw`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pausegraph.cli import main, run_demo


def _demo(db: Path, *answers: str, reset: bool = False) -> list[str]:
    lines: list[str] = []
    code = run_demo(db, "demo", reset=reset, scripted=answers, out=lines.append)
    assert code == 0
    return lines


def test_demo_pauses_and_approval_pays_once(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    lines = _demo(db, "approve")
    text = "\n".join(lines)
    assert "? Approve this refund?" in text
    assert "amount:  120.00" in text
    assert lines[-2:] == ["  - approved by a person", "  - payment of 120.00 sent"]
    assert "Done: paid." in lines


def test_quitting_leaves_the_thread_waiting_and_the_next_run_continues(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    first = _demo(db, "edit 95", "quit")
    assert first[-1] == "Left waiting. Run `pausegraph demo` again to continue this thread."
    second = _demo(db, "approve")
    assert second[0].startswith("Continuing thread 'demo'")
    assert "    amount:  95.00" in second
    assert second[-1] == "  - payment of 95.00 sent"
    third = _demo(db)
    assert third[0] == f"Thread 'demo' in {db} is already paid."


def test_a_bad_answer_is_refused_and_asked_again(tmp_path: Path) -> None:
    lines = _demo(tmp_path / "demo.db", "bogus", "edit", "reject")
    refusals = [line for line in lines if line.startswith("  ! not a valid answer")]
    assert refusals == [
        "  ! not a valid answer: answer.action: 'bogus' is not one of ['approve', 'reject', 'edit']",
        "  ! not a valid answer: answer.amount: required field is missing",
    ]
    assert "Done: rejected." in lines


def test_reset_starts_over(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    _demo(db, "reject")
    lines = _demo(db, "approve", reset=True)
    assert lines[0].startswith("Starting thread 'demo'")
    assert "Done: paid." in lines


def test_the_console_command_runs_the_demo_in_a_fresh_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pausegraph.cli", "demo", "--db", str(tmp_path / "d.db")],
        input="approve\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Done: paid." in proc.stdout


def test_end_of_input_leaves_the_thread_waiting(tmp_path: Path) -> None:
    lines: list[str] = []

    def no_more_input(prompt: str) -> str:
        raise EOFError

    run_demo(tmp_path / "d.db", "demo", out=lines.append, ask=no_more_input)
    assert lines[-1].startswith("Left waiting.")


def test_draw_prints_a_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = tmp_path / "my_graphs.py"
    module.write_text(
        "from typing import TypedDict\n"
        "from pausegraph.graph import StateGraph, START\n"
        "class S(TypedDict):\n    x: int\n"
        "graph = StateGraph(S).add_node('only', lambda s: s).add_edge(START, 'only').compile()\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        assert main(["draw", "my_graphs:graph", "--format", "mermaid"]) == 0
    finally:
        sys.path.remove(str(tmp_path))
    assert "__start__ --> only;" in capsys.readouterr().out
    assert main(["draw", "no_colon_here"]) == 2
