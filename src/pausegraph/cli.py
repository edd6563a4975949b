"""The ``pausegraph`` command line, built on the public API only.

``pausegraph demo`` runs an approval workflow that pauses for you, on the
embedded SQLite store; ``pausegraph draw`` pictures a graph.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

_QUIT = {"q", "quit", "exit"}


def _parse_answer(text: str) -> dict[str, Any] | None:
    """``approve`` / ``edit 95`` / ``reject`` (or their first letters) as a resume value."""
    words = text.strip().split()
    if not words:
        return None
    verb = words[0].lower()
    for action in ("approve", "edit", "reject"):
        if action.startswith(verb):
            if action == "edit":
                if len(words) != 2:
                    return {"action": "edit"}
                try:
                    return {"action": "edit", "amount": float(words[1])}
                except ValueError:
                    return {"action": "edit", "amount": words[1]}
            return {"action": action}
    return {"action": verb}


def _answers(scripted: Sequence[str], ask: Callable[[str], str]) -> Iterator[str | None]:
    yield from scripted
    if scripted:
        return
    while True:
        try:
            yield ask("your answer> ")
        except EOFError:
            yield None
            return


def _show_question(value: Any, out: Callable[[str], None]) -> None:
    out("")
    out(f"  ? {value['question']}")
    out(f"    request: {value['request']}")
    out(f"    amount:  {value['amount']:.2f}")
    out(f"    answer with one of: {', '.join(value['choices'])}   (or 'quit' to leave it waiting)")


def run_demo(
    db: Path,
    thread_id: str,
    *,
    reset: bool = False,
    scripted: Sequence[str] = (),
    out: Callable[[str], None] = print,
    ask: Callable[[str], str] = input,
) -> int:
    """Run or continue the demo thread; returns the process exit status."""
    from pausegraph._demo import build_demo_graph
    from pausegraph.checkpoint.sqlite import SqliteSaver
    from pausegraph.errors import ResumeValidationError
    from pausegraph.types import Command

    config = {"configurable": {"thread_id": thread_id}}
    with SqliteSaver.from_conn_string(str(db)) as saver:
        graph = build_demo_graph(saver)
        if reset:
            saver.delete_thread(thread_id)
        state = graph.get_state(config)
        if not state.next and state.values:
            out(f"Thread {thread_id!r} in {db} is already {state.values.get('status')}.")
            out("Run `pausegraph demo --reset` to start a new request.")
            return 0
        if state.interrupts:
            out(f"Continuing thread {thread_id!r} from {db}: it is waiting for you.")
            pending: Any = None
        else:
            out(f"Starting thread {thread_id!r} in {db}.")
            pending = {}
        answers = _answers(scripted, ask)
        while True:
            if pending is not None:
                for update in graph.stream(pending, config, stream_mode="updates"):
                    for node in update:
                        if node != "__interrupt__":
                            out(f"  -> {node}")
            state = graph.get_state(config)
            if not state.interrupts:
                out("")
                out(f"Done: {state.values['status']}.")
                for line in state.values.get("log", []):
                    out(f"  - {line}")
                return 0
            _show_question(state.interrupts[0].value, out)
            text = next(answers, None)
            if text is None or text.strip().lower() in _QUIT:
                out("")
                out("Left waiting. Run `pausegraph demo` again to continue this thread.")
                return 0
            answer = _parse_answer(text)
            if answer is None:
                pending = None
                continue
            try:
                for update in graph.stream(Command(resume=answer), config, stream_mode="updates"):
                    for node in update:
                        if node != "__interrupt__":
                            out(f"  -> {node}")
            except ResumeValidationError as exc:
                out(f"  ! not a valid answer: {'; '.join(exc.problems)}")
            pending = None


def _draw(target: str, output: str | None, fmt: str) -> int:
    module_name, _, attr = target.partition(":")
    if not attr:
        print(
            "pausegraph draw: give the graph as module:attribute, e.g. myapp.graphs:graph",
            file=sys.stderr,
        )
        return 2
    graph = getattr(importlib.import_module(module_name), attr)
    drawable = graph.get_graph()
    if fmt == "png":
        data = drawable.draw_mermaid_png(output_file_path=output)
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            print(f"wrote {output}")
        return 0
    text = drawable.draw_mermaid() if fmt == "mermaid" else drawable.draw_ascii()
    if output is None:
        print(text)
    else:
        Path(output).write_text(text)
        print(f"wrote {output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pausegraph`` console command."""
    parser = argparse.ArgumentParser(prog="pausegraph", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run an approval workflow that pauses for you")
    demo.add_argument(
        "--db", default="pausegraph-demo.db", help="SQLite file (default: %(default)s)"
    )
    demo.add_argument("--thread", default="demo", help="thread id (default: %(default)s)")
    demo.add_argument("--reset", action="store_true", help="forget the thread and start over")
    demo.add_argument(
        "--answer", action="append", default=[], help="answer without asking (repeatable)"
    )
    draw = commands.add_parser("draw", help="draw a compiled graph: module:attribute")
    draw.add_argument("graph", help="where the compiled graph is, e.g. myapp.graphs:graph")
    draw.add_argument("--format", choices=["ascii", "mermaid", "png"], default="ascii")
    draw.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(Path(args.db), args.thread, reset=args.reset, scripted=args.answer)
    return _draw(args.graph, args.output, args.format)


if __name__ == "__main__":
    raise SystemExit(main())
