"""The inbox page and the JSON API of ``pausegraph.server``, through Starlette's test client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest

pytest.importorskip("starlette", reason="the server needs pausegraph[server]")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
from starlette.testclient import TestClient

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.checkpoint.sqlite import SqliteSaver
from pausegraph.errors import MissingCheckpointerError
from pausegraph.graph import END, START, StateGraph
from pausegraph.prebuilt import with_human_review
from pausegraph.server import create_app
from pausegraph.types import interrupt


class S(TypedDict, total=False):
    topic: str
    answer: Any
    sent: str


def send_email(to: str, subject: str) -> str:
    """Send an email."""
    return f"sent to {to}: {subject}"


REVIEWED = with_human_review(send_email, {"allow_ignore": False})


def build(saver: Any) -> Any:
    """ask (a plain question, answers must be integers) -> mail (a reviewed tool call)."""
    builder = StateGraph(S)
    schema = {"type": "integer"}
    builder.add_node(
        "ask", lambda s: {"answer": interrupt({"q": s["topic"]}, response_schema=schema)}
    )
    builder.add_node("mail", lambda s: {"sent": REVIEWED(to="ada@example.com", subject=s["topic"])})
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "mail")
    builder.add_edge("mail", END)
    return builder.compile(checkpointer=saver, name="mailer")


@pytest.fixture(params=["memory", "sqlite"])
def graph(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield build(InMemorySaver())
        return
    with SqliteSaver.from_conn_string(str(tmp_path / "inbox.db")) as saver:
        yield build(saver)


def start(client: TestClient, thread: str, topic: str) -> dict[str, Any]:
    response = client.post(f"/api/threads/{thread}/runs", json={"input": {"topic": topic}})
    assert response.status_code == 200, response.text
    return response.json()


def interrupt_ids(page: str) -> list[str]:
    return re.findall(r'data-interrupt="([0-9a-f]+)"', page)


def test_the_inbox_lists_what_each_thread_asks(graph: Any) -> None:
    client = TestClient(create_app(graph))
    assert "0 threads waiting" in client.get("/").text
    started = start(client, "t1", "lunch")
    assert started["interrupts"][0]["value"] == {"q": "lunch"}
    page = client.get("/").text
    assert "1 thread waiting" in page and 'data-thread="t1"' in page
    assert "&quot;q&quot;: &quot;lunch&quot;" in page  # the question, escaped
    assert interrupt_ids(page) == [started["interrupts"][0]["id"]]
    assert 'data-kind="value"' in page


def test_answering_on_the_page_resumes_the_thread(graph: Any) -> None:
    client = TestClient(create_app(graph))
    first = start(client, "t1", "lunch")["interrupts"][0]["id"]
    done = client.post(
        "/threads/t1/answer",
        data={"interrupt_id": first, "kind": "value", "text": "42"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "Answered thread t1: it now waits again." in page
    # Now the reviewed tool call waits, with the answers its config allows.
    assert re.findall(r'data-kind="(\w+)"', page) == ["accept", "edit", "response"]
    assert "send_email" in page and "ada@example.com" in page
    second = interrupt_ids(page)[0]
    edited = '{"to": "bob@example.com", "subject": "lunch"}'
    client.post(
        "/threads/t1/answer",
        data={"interrupt_id": second, "kind": "edit", "text": edited, "action": "send_email"},
    )
    state = client.get("/api/threads/t1").json()
    assert state["values"] == {
        "topic": "lunch",
        "answer": 42,
        "sent": "sent to bob@example.com: lunch",
    }
    assert state["next"] == [] and state["interrupts"] == []
    assert "0 threads waiting" in client.get("/").text


def test_a_refused_answer_changes_nothing(graph: Any) -> None:
    client = TestClient(create_app(graph))
    first = start(client, "t1", "lunch")["interrupts"][0]["id"]
    before = client.get("/api/threads/t1").json()
    refused = client.post(
        "/threads/t1/answer", data={"interrupt_id": first, "kind": "value", "text": '"soon"'}
    )
    assert refused.status_code == 400
    assert "Thread t1 was not changed" in refused.text and "role=alert" in refused.text
    stale = client.post("/threads/t1/answer", data={"interrupt_id": "feed", "text": "1"})
    assert stale.status_code == 409
    assert client.get("/api/threads/t1").json() == before


def test_the_json_api(graph: Any) -> None:
    client = TestClient(create_app(graph))
    first = start(client, "t1", "lunch")["interrupts"][0]["id"]
    start(client, "t2", "dinner")
    waiting = client.get("/api/waiting").json()
    assert [w["thread_id"] for w in waiting["items"]] == ["t1", "t2"]
    assert waiting["items"][0]["interrupts"][0] == {
        "id": first,
        "node": "ask",
        "value": {"q": "lunch"},
    }
    assert waiting["items"][0]["answer_url"] == "/threads/t1/answer"
    one = client.get("/api/waiting?limit=1").json()
    assert len(one["items"]) == 1 and one["next_cursor"]
    resumed = client.post("/api/threads/t1/resume", json={"resume": {first: 7}})
    assert resumed.status_code == 200
    review = resumed.json()["interrupts"][0]["value"]
    assert review["action_request"] == {
        "action": "send_email",
        "args": {"to": "ada@example.com", "subject": "lunch"},
    }
    bad = client.post("/api/threads/t2/resume", json={"resume": "x"})
    assert (bad.status_code, bad.json()["error"]) == (400, "ResumeValidationError")
    assert client.post("/api/threads/t2/resume", json={}).status_code == 400
    assert client.post("/api/threads/t2/resume", content=b"[").status_code == 400
    assert client.get("/api/threads/nope").status_code == 404


def test_a_retried_request_runs_once(graph: Any) -> None:
    client = TestClient(create_app(graph))
    first = start(client, "t1", "lunch")["interrupts"][0]["id"]
    body = {"resume": {first: 1}, "idempotency_key": "req-1"}
    one = client.post("/api/threads/t1/resume", json=body).json()
    again = client.post("/api/threads/t1/resume", json=body).json()
    assert one["values"] == again["values"] == {"topic": "lunch", "answer": 1}


def test_text_is_escaped() -> None:
    client = TestClient(create_app(build(InMemorySaver())))
    start(client, "<b>t</b>", "<script>alert(1)</script>")
    page = client.get("/").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<b>t</b>" not in page


def test_a_graph_without_checkpointer_is_refused() -> None:
    builder = StateGraph(S)
    builder.add_node("n", lambda s: {})
    builder.add_edge(START, "n")
    with pytest.raises(MissingCheckpointerError):
        create_app(builder.compile())


SERVED = build(InMemorySaver())
"""What the CLI test serves (``pausegraph serve tests.test_server:SERVED``)."""


def test_the_serve_command_runs_the_app_with_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from pausegraph.cli import main

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    assert main(["serve", "tests.test_server:SERVED", "--port", "8123"]) == 0
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    client = TestClient(served["app"])
    assert "mailer: waiting for a person" in client.get("/").text
    assert main(["serve", "tests.test_server"]) == 2  # no :attribute


def test_without_starlette_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pausegraph.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "starlette.applications", None)  # import fails
    with pytest.raises(MissingDependencyError, match=r"pip install 'pausegraph\[server\]'"):
        create_app(SERVED)


def test_an_entrypoint_returning_a_number_is_served_too() -> None:
    from pausegraph.func import entrypoint

    @entrypoint(checkpointer=InMemorySaver())
    def count(n: int) -> int:
        return n + interrupt("add how many?")

    client = TestClient(create_app(count))
    asked = client.post("/api/threads/c1/runs", json={"input": 1}).json()
    assert asked["interrupts"][0]["value"] == "add how many?"
    done = client.post("/api/threads/c1/resume", json={"resume": 2}).json()
    assert (done["values"], done["interrupts"]) == (3, [])
    assert client.get("/api/waiting?limit=x").status_code == 400
