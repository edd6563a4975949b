"""A separate OS process that runs a graph against a shared store (for race and crash tests).

Usage: ``python _process_worker.py KIND LOCATION MODE THREAD EFFECTS``; KIND is
``sqlite`` (LOCATION a file), ``postgres`` (a conninfo) or ``redis`` (``url|prefix``).
Prints one word: what happened.
"""

from __future__ import annotations

import operator
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypedDict

from pausegraph.errors import NothingToResumeError, ThreadBusyError
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt, once


@contextmanager
def open_saver(kind: str, location: str) -> Iterator[Any]:
    if kind == "sqlite":
        from pausegraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(location) as saver:
            yield saver
    elif kind == "postgres":
        from pausegraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(location) as saver:
            yield saver
    else:
        from pausegraph.checkpoint.redis import RedisSaver

        url, prefix = location.split("|")
        with RedisSaver.from_conn_string(url, prefix=prefix) as saver:
            yield saver


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def effect(path: Path, line: str) -> str:
    with path.open("a") as f:
        f.write(line + "\n")
    return line


def approval_graph(saver: Any, effects: Path) -> Any:
    def ask(state: State) -> dict[str, Any]:
        answer = interrupt("charge the card?")
        once(effect, effects, f"charged {answer}")
        return {"log": [f"charged {answer}"]}

    builder = StateGraph(State).add_node("ask", ask).add_edge(START, "ask").add_edge("ask", END)
    return builder.compile(checkpointer=saver)


def crash_graph(saver: Any, effects: Path, hang: bool) -> Any:
    def a(state: State) -> dict[str, Any]:
        effect(effects, "a ran")
        return {"log": ["a"]}

    def b(state: State) -> dict[str, Any]:
        effect(effects, "b started")
        if hang:
            time.sleep(60)  # killed here
        return {"log": ["b"]}

    def c(state: State) -> dict[str, Any]:
        return {"log": ["c"]}

    builder = StateGraph(State).add_node("a", a).add_node("b", b).add_node("c", c)
    builder.add_edge(START, "a").add_edge(START, "b").add_edge(["a", "b"], "c")
    return builder.compile(checkpointer=saver)


def main() -> None:
    kind, location, mode, thread_id, effects_file = sys.argv[1:6]
    effects = Path(effects_file)
    config = {"configurable": {"thread_id": thread_id}}
    with open_saver(kind, location) as saver:
        saver.setup()
        if mode == "pause":
            approval_graph(saver, effects).invoke({"log": []}, config)
            print("paused")
        elif mode == "resume":
            try:
                approval_graph(saver, effects).invoke(Command(resume="yes"), config)
                print("resumed")
            except ThreadBusyError:
                print("busy")
            except NothingToResumeError:
                print("nothing")
        elif mode in ("crash", "recover"):
            graph = crash_graph(saver, effects, hang=mode == "crash")
            if mode == "crash":
                graph.invoke({"log": []}, config)
            else:
                deadline = time.monotonic() + 20
                while True:  # the killed run's lease expires first
                    try:
                        result = graph.invoke(None, config)
                        break
                    except ThreadBusyError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
                print(",".join(result["log"]))


if __name__ == "__main__":
    main()
