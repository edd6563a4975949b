"""The ``pausegraph`` command line, built on the public API only.

``pausegraph demo`` runs an approval workflow that pauses for you, on the
embedded SQLite store; ``pausegraph draw`` pictures a graph. ``inbox``,
``threads`` and ``history`` read a store (SQLite file, Postgres or Redis
URL): who waits for a person, which threads exist, and one thread's
timeline, as text, JSON or an SVG picture. ``pausegraph serve`` serves a
graph's inbox page, where a person answers, and its JSON API.
"""

from __future__ import annotations

import argparse
import importlib
import json
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


def _load_graph(command: str, target: str) -> Any:
    """The graph ``module:attribute`` names, or ``None`` after saying what is wrong."""
    module_name, _, attr = target.partition(":")
    if not attr:
        print(
            f"pausegraph {command}: give the graph as module:attribute, e.g. myapp.graphs:graph",
            file=sys.stderr,
        )
        return None
    return getattr(importlib.import_module(module_name), attr)


def _serve(target: str, host: str, port: int) -> int:
    graph = _load_graph("serve", target)
    if graph is None:
        return 2
    try:
        import uvicorn

        from pausegraph.server import create_app
    except ImportError:
        print(
            "pausegraph serve: needs Starlette and uvicorn: pip install 'pausegraph[server]'",
            file=sys.stderr,
        )
        return 1
    print(f"pausegraph inbox for {graph.name} on http://{host}:{port}/")
    uvicorn.run(create_app(graph), host=host, port=port, log_level="warning")
    return 0


def _draw(target: str, output: str | None, fmt: str) -> int:
    graph = _load_graph("draw", target)
    if graph is None:
        return 2
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


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, default=repr, ensure_ascii=False)


def _inbox(saver: Any, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from pausegraph._timeline import short
    from pausegraph.checkpoint.capabilities import encode_waiting

    page = saver.list_waiting(graph=args.graph, limit=args.limit, after=args.after)
    if args.json:
        out(_json({"items": [encode_waiting(t) for t in page.items], "next": page.next_cursor}))
        return 0
    if not page.items:
        out("No thread is waiting for a person." if args.after is None else "No more.")
        return 0
    for entry in page.items:
        out(f"{entry.thread_id}  graph {entry.graph!r}  paused {entry.paused_at}")
        for asked in entry.interrupts:
            out(f"    {asked.node}  {asked.id}  {short(asked.value, 100)}")
    if page.next_cursor is not None:
        out(f"(more: add --after {page.next_cursor})")
    return 0


def _threads(saver: Any, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    threads = saver.list_threads()
    out(_json(threads) if args.json else "\n".join(threads) if threads else "No threads.")
    return 0


def _history(saver: Any, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from pausegraph import _timeline

    rows = _timeline.lay_out(saver.history(args.thread, limit=args.limit))
    if not rows:
        raise _Refused(
            f"Thread {args.thread!r} has no checkpoints in this store. "
            f"`pausegraph threads {args.store}` lists the threads it has."
        )
    if args.svg is not None:
        Path(args.svg).write_text(_timeline.svg(rows, f"thread {args.thread}"), encoding="utf-8")
        out(f"wrote {args.svg} ({len(rows)} checkpoints)")
    elif args.json:
        out(_json([row.as_dict() for row in rows]))
    else:
        out(_timeline.text(rows).rstrip("\n"))
    return 0


class _Refused(Exception):
    """What a store command cannot do, said to the user (exit status 1)."""


def _with_store(
    command: Callable[[Any, argparse.Namespace, Callable[[str], None]], int],
    args: argparse.Namespace,
    out: Callable[[str], None] = print,
) -> int:
    from pausegraph._store_url import open_store
    from pausegraph.errors import PauseGraphError

    try:
        with open_store(args.store, prefix=args.prefix) as saver:
            return command(saver, args, out)
    except (PauseGraphError, _Refused) as exc:
        print(f"pausegraph {args.command}: {exc}", file=sys.stderr)
        return 1


def _store_parser(commands: Any, name: str, help: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help)
    parser.add_argument(
        "store", help="SQLite file, postgresql://... or redis://... (as the saver connects)"
    )
    parser.add_argument("--prefix", help="key prefix of a Redis store, if not the default")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


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
    inbox = _store_parser(commands, "inbox", "list the threads waiting for a person")
    inbox.add_argument("--graph", help="only threads of this graph (compile(name=...))")
    inbox.add_argument("--limit", type=int, default=50, help="at most this many (%(default)s)")
    inbox.add_argument("--after", help="the cursor a previous page ended with")
    _store_parser(commands, "threads", "list the store's thread ids")
    history = _store_parser(commands, "history", "a thread's checkpoints, newest first")
    history.add_argument("thread", help="the thread id")
    history.add_argument("--limit", type=int, help="only the newest N checkpoints")
    history.add_argument("--svg", metavar="FILE", help="draw the timeline as an SVG picture")
    serve = commands.add_parser("serve", help="serve a graph's inbox page and JSON API")
    serve.add_argument("graph", help="where the compiled graph is, e.g. myapp.graphs:graph")
    serve.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(Path(args.db), args.thread, reset=args.reset, scripted=args.answer)
    if args.command == "draw":
        return _draw(args.graph, args.output, args.format)
    if args.command == "serve":
        return _serve(args.graph, args.host, args.port)
    return _with_store(
        {"inbox": _inbox, "threads": _threads, "history": _history}[args.command], args
    )


if __name__ == "__main__":
    raise SystemExit(main())
