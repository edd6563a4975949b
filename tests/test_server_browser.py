"""A person answers in a real browser: Chromium (Debian's ``chromium`` package) via Playwright.

Skipped, with the reason, where Playwright or Chromium is missing; ``.ci/run``
installs both, so CI runs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the server needs pausegraph[server]")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
CHROMIUM = os.environ.get("PAUSEGRAPH_CHROMIUM") or shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("no Chromium (apt-get install chromium)", allow_module_level=True)

import uvicorn  # noqa: E402
from tests.test_server import build  # noqa: E402

from pausegraph.checkpoint.memory import InMemorySaver  # noqa: E402
from pausegraph.server import create_app  # noqa: E402


@pytest.fixture
def served() -> Iterator[tuple[str, Any]]:
    """A graph behind a real HTTP server on a free port: (base URL, graph)."""
    graph = build(InMemorySaver())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(graph), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", graph
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_person_answers_both_questions_in_the_browser(served: tuple[str, Any]) -> None:
    url, graph = served
    config = {"configurable": {"thread_id": "refund-7"}}
    graph.invoke({"topic": "lunch"}, config)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url + "/")
            assert page.locator(".thread h2").all_inner_texts() == ["refund-7"]
            page.fill("form[data-kind=value] textarea", "5")
            page.click("form[data-kind=value] button")
            assert "Answered thread refund-7: it now waits again." in page.inner_text(".notice")
            # The reviewed tool call: change the recipient, then run it.
            edited = '{"to": "bob@example.com", "subject": "lunch"}'
            page.fill("form[data-kind=edit] textarea", edited)
            page.click("form[data-kind=edit] button")
            assert "it went on" in page.inner_text(".notice")
            assert page.inner_text("main").count("0 threads waiting") == 1
        finally:
            browser.close()
    assert graph.get_state(config).values == {
        "topic": "lunch",
        "answer": 5,
        "sent": "sent to bob@example.com: lunch",
    }
