"""``pausegraph inbox|threads|history STORE``: reading a store from the command line.

Each command runs on a SQLite file, and on Postgres and Redis when their
servers are up (required in CI), against a thread of the demo graph that
paused, was answered, and was forked from its pause (time travel).
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from _savers import REDIS_URL, postgres_schema, redis_saver
from pausegraph._demo import build_demo_graph
from pausegraph._store_url import open_store
from pausegraph.cli import main
from pausegraph.types import Command


@contextmanager
def store_url(kind: str, tmp_path: Path) -> Iterator[list[str]]:
    """The command-line arguments naming a fresh store of ``kind``."""
    if kind == "sqlite":
        path = tmp_path / "store.db"
        path.touch()
        yield [str(path)]
    elif kind == "postgres":
        from psycopg.conninfo import conninfo_to_dict

        with postgres_schema() as conninfo:
            params = conninfo_to_dict(conninfo)
            options = str(params["options"]).replace("=", "%3D")
            host, port, db = params["host"], params.get("port", 5432), params["dbname"]
            yield [f"postgresql://{params['user']}@{host}:{port}/{db}?options={options}"]
    else:
        with redis_saver(tmp_path) as saver:  # skips (or fails in CI) without a server
            yield [REDIS_URL, "--prefix", saver.keys.prefix]


def paused_then_forked(args: list[str], thread: str) -> None:
    """A demo thread: paused, answered, then forked from its pause and paused again."""
    prefix = args[2] if len(args) > 2 else None
    with open_store(args[0], prefix=prefix) as saver:
        graph = build_demo_graph(saver)
        config = {"configurable": {"thread_id": thread}}
        graph.invoke({}, config)
        pause = graph.get_state(config).config
        graph.invoke(Command(resume={"action": "approve"}), config)
        fork = graph.update_state(pause, {"amount": 80.0})
        graph.invoke(None, fork)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    with store_url(request.param, tmp_path) as args:
        yield args


def with_store(command: str, store: list[str], *rest: str) -> list[str]:
    return [command, store[0], *rest, *store[1:]]


def test_inbox_lists_the_waiting_thread(store: list[str], capsys: Any) -> None:
    thread = f"cli-{uuid.uuid4().hex[:8]}"
    paused_then_forked(store, thread)
    status, out, _ = run(capsys, *with_store("inbox", store))
    assert status == 0
    assert f"{thread}  graph 'refund-approval'  paused 20" in out
    assert "review  " in out and "Approve this refund?" in out
    status, out, _ = run(
        capsys, *with_store("inbox", store, "--json", "--graph", "refund-approval")
    )
    items = [i for i in json.loads(out)["items"] if i["thread_id"] == thread]
    assert len(items) == 1
    [[interrupt_id, value, node]] = items[0]["interrupts"]
    assert node == "review" and value["amount"] == 80.0 and len(interrupt_id) == 32
    status, out, _ = run(capsys, *with_store("inbox", store, "--graph", "another-graph"))
    assert (status, out) == (0, "No thread is waiting for a person.\n")


def test_threads_lists_the_thread(store: list[str], capsys: Any) -> None:
    thread = f"cli-{uuid.uuid4().hex[:8]}"
    paused_then_forked(store, thread)
    status, out, _ = run(capsys, *with_store("threads", store, "--json"))
    assert status == 0 and thread in json.loads(out)


def test_history_shows_the_timeline_with_its_fork(store: list[str], capsys: Any) -> None:
    thread = f"cli-{uuid.uuid4().hex[:8]}"
    paused_then_forked(store, thread)
    status, out, _ = run(capsys, *with_store("history", store, thread, "--json"))
    assert status == 0
    rows = json.loads(out)
    shape = [(r["step"], r["source"], r["next"], bool(r["waiting"]), r["answered"]) for r in rows]
    assert shape == [
        (2, "update", ["review"], True, False),  # the fork, waiting again
        (3, "loop", [], False, False),  # the answered branch ended
        (2, "loop", ["pay"], False, True),
        (1, "loop", ["review"], True, True),  # the pause both branches left
        (0, "loop", ["draft"], False, True),
        (-1, "input", ["__start__"], False, True),
    ]
    assert rows[0]["parent_id"] == rows[3]["checkpoint_id"] == rows[2]["parent_id"]
    status, out, _ = run(capsys, *with_store("history", store, thread, "--json", "--limit", "2"))
    assert json.loads(out) == rows[:2]

    status, out, _ = run(capsys, *with_store("history", store, thread))
    lines = out.splitlines()
    assert lines[0].startswith("  ?  ") and "step   2  update  by draft  -> review" in lines[0]
    assert lines[1].startswith("     waiting at review (interrupt ")  # under the time
    assert lines[2].startswith("* |  ") and "step   3  loop    by pay  -> (end)" in lines[2]
    assert lines[-1].startswith("*    ") and "step  -1  input" in lines[-1]


def test_history_draws_an_svg_timeline(store: list[str], capsys: Any, tmp_path: Path) -> None:
    thread = f"cli-{uuid.uuid4().hex[:8]}"
    paused_then_forked(store, thread)
    picture = tmp_path / "timeline.svg"
    status, out, _ = run(capsys, *with_store("history", store, thread, "--svg", str(picture)))
    assert (status, out) == (0, f"wrote {picture} (6 checkpoints)\n")
    svg = ET.parse(picture).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    dots = svg.findall("s:circle[@class='checkpoint']", ns)
    assert [d.get("data-lane") for d in dots] == ["1", "0", "0", "0", "0", "0"]
    assert dots[0].get("fill") == "#e37400"  # the fork waits for a person
    assert dots[0].get("stroke") == "black"  # the newest checkpoint is ringed
    assert len(svg.findall("s:path[@class='link']", ns)) == 5  # one line per parent
    labels = [t.text or "" for t in svg.findall("s:text", ns)]
    assert labels[0] == f"thread {thread}"
    assert any("waiting at review:" in label for label in labels)
    assert any("asked at review:" in label for label in labels)


def test_bad_stores_and_threads_say_what_is_wrong(tmp_path: Path, capsys: Any) -> None:
    missing = tmp_path / "nope.db"
    status, out, err = run(capsys, "inbox", str(missing))
    assert status == 1 and out == ""
    assert f"No SQLite store at '{missing}': the file does not exist" in err
    assert not missing.exists()  # reading never creates a store
    status, _, err = run(capsys, "threads", "ftp://example.com/db")
    assert status == 1 and "Unknown store 'ftp://': give a SQLite file" in err
    db = tmp_path / "store.db"
    db.touch()
    status, _, err = run(capsys, "history", str(db), "nobody")
    assert status == 1 and "Thread 'nobody' has no checkpoints in this store." in err
    assert f"`pausegraph threads {db}` lists the threads it has" in err


def test_a_down_redis_names_its_url_without_the_password(capsys: Any) -> None:
    status, _, err = run(capsys, "inbox", "redis://:s3cret@127.0.0.1:1/0")
    assert status == 1
    assert "Cannot reach Redis at redis://:***@127.0.0.1:1/0" in err and "s3cret" not in err
