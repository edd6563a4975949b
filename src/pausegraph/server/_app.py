"""The Starlette application behind :func:`pausegraph.server.create_app`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from pausegraph.errors import (
    InvalidUpdateError,
    MissingCheckpointerError,
    MissingDependencyError,
    NothingToResumeError,
    PauseGraphError,
    ResumeError,
    ThreadBusyError,
    UnknownInterruptError,
)
from pausegraph.server._page import inbox_page, jsonable
from pausegraph.types import Command

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["create_app"]

INSTALL_HINT = "pausegraph's server needs Starlette: pip install 'pausegraph[server]'"


def create_app(graph: Any, *, title: str | None = None) -> Starlette:
    """An ASGI app serving ``graph``'s review inbox page and JSON API.

    Args:
        graph: A compiled graph with a checkpointer whose store keeps the
            index of waiting threads (every pausegraph saver does).
        title: The inbox page's heading (default: the graph's name).

    Raises:
        MissingDependencyError: Starlette is not installed (the message says how to install it).
        MissingCheckpointerError: The graph has no checkpointer.
    """
    try:
        from starlette.applications import Starlette
        from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
        from starlette.routing import Route
    except ImportError as exc:
        raise MissingDependencyError(INSTALL_HINT) from exc

    if graph.checkpointer is None:  # fail now, not on the first request
        raise MissingCheckpointerError(
            f"The inbox lists threads that wait in a store: compile {graph.name!r} with a "
            "checkpointer (SqliteSaver, PostgresSaver, ...) to serve it."
        )
    heading = title or graph.name

    def error(status: int, kind: str, message: str) -> Response:
        return JSONResponse({"error": kind, "message": message}, status_code=status)

    def config_of(thread_id: str, key: str | None = None) -> dict[str, Any]:
        conf = {"thread_id": thread_id}
        if key:
            conf["idempotency_key"] = key
        return {"configurable": conf}

    async def page(request: Request) -> Response:
        waiting = await graph.alist_waiting(limit=200)
        notice = request.query_params.get("notice")
        return HTMLResponse(inbox_page(heading, waiting.items, notice=notice))

    async def answer(request: Request) -> Response:
        thread_id = request.path_params["thread_id"]
        # The page's forms are urlencoded: read here, so no multipart parser is needed.
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        interrupt_id = str(form.get("interrupt_id") or "")
        try:
            value = _answer_of(form)
            await _check_waiting(graph, config_of(thread_id), interrupt_id)
            result = await graph.ainvoke(
                Command(resume={interrupt_id: value}), config_of(thread_id)
            )
        except (PauseGraphError, ValueError) as exc:
            waiting = await graph.alist_waiting(limit=200)
            status = _status(exc)
            message = f"Thread {thread_id} was not changed: {exc}"
            html = inbox_page(heading, waiting.items, error=message)
            return HTMLResponse(html, status_code=status)
        still = "now waits again" if _interrupts_of(result) else "went on"
        notice = urlencode({"notice": f"Answered thread {thread_id}: it {still}."})
        return RedirectResponse(f"/?{notice}", status_code=303)

    async def api_waiting(request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            return error(400, "BadRequest", "limit must be a whole number.")
        after = request.query_params.get("after")
        found = await graph.alist_waiting(limit=limit, after=after)
        items = [_waiting_json(entry) for entry in found.items]
        return JSONResponse({"items": items, "next_cursor": found.next_cursor})

    async def api_thread(request: Request) -> Response:
        thread_id = request.path_params["thread_id"]
        state = await graph.aget_state(config_of(thread_id))
        if not state.config.get("configurable", {}).get("checkpoint_id"):
            return error(404, "NotFound", f"Thread {thread_id!r} has no state.")
        return JSONResponse(
            {
                "thread_id": thread_id,
                "checkpoint_id": state.config["configurable"]["checkpoint_id"],
                "values": jsonable(state.values),
                "next": list(state.next),
                "interrupts": [{"id": i.id, "value": jsonable(i.value)} for i in state.interrupts],
            }
        )

    async def api_run(request: Request, command: bool) -> Response:
        thread_id = request.path_params["thread_id"]
        try:
            body = await request.json()
        except ValueError:
            return error(400, "BadRequest", "The body must be a JSON object.")
        if not isinstance(body, Mapping):
            return error(400, "BadRequest", "The body must be a JSON object.")
        if command and "resume" not in body:
            return error(400, "BadRequest", 'Send {"resume": <answer>}.')
        inp = Command(resume=body["resume"]) if command else body.get("input")
        try:
            result = await graph.ainvoke(inp, config_of(thread_id, body.get("idempotency_key")))
        except (PauseGraphError, ValueError) as exc:
            return error(_status(exc), type(exc).__name__, str(exc))
        interrupts = _interrupts_of(result)
        if isinstance(result, dict):
            result = {k: v for k, v in result.items() if k != "__interrupt__"}
        return JSONResponse(
            {
                "thread_id": thread_id,
                "values": jsonable(result),
                "interrupts": [{"id": i.id, "value": jsonable(i.value)} for i in interrupts],
            }
        )

    async def api_start(request: Request) -> Response:
        return await api_run(request, command=False)

    async def api_resume(request: Request) -> Response:
        return await api_run(request, command=True)

    return Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/threads/{thread_id:path}/answer", answer, methods=["POST"]),
            Route("/api/waiting", api_waiting, methods=["GET"]),
            Route("/api/threads/{thread_id:path}/runs", api_start, methods=["POST"]),
            Route("/api/threads/{thread_id:path}/resume", api_resume, methods=["POST"]),
            Route("/api/threads/{thread_id:path}", api_thread, methods=["GET"]),
        ]
    )


async def _check_waiting(graph: Any, config: Any, interrupt_id: str) -> None:
    """Refuse an answer to an interrupt the thread no longer waits on (the page was stale).

    Without this, a thread that waits on a single interrupt would take
    ``{stale_id: answer}`` as the answer itself.

    Raises:
        UnknownInterruptError: The thread does not wait on ``interrupt_id``.
    """
    state = await graph.aget_state(config)
    if interrupt_id not in {i.id for i in state.interrupts}:
        raise UnknownInterruptError(
            f"it does not wait on interrupt {interrupt_id!r} (any more); reload the inbox."
        )


def _interrupts_of(result: Any) -> list[Any]:
    """What a run's result asks (an entrypoint may return something other than a dict)."""
    return list(result.get("__interrupt__") or ()) if isinstance(result, dict) else []


def _answer_of(form: Mapping[str, Any]) -> Any:
    """The resume value a submitted answer form stands for.

    Raises:
        ValueError: An edit whose arguments are not a JSON object.
    """
    kind = str(form.get("kind") or "value")
    text = str(form.get("text") or "")
    if kind in ("accept", "ignore"):
        return {"type": kind}
    if kind == "response":
        return {"type": "response", "args": text}
    if kind == "edit":
        try:
            args = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"the edited arguments are not valid JSON ({exc})") from exc
        if not isinstance(args, dict):
            raise ValueError("the edited arguments must be a JSON object")
        return {"type": "edit", "args": {"action": str(form.get("action") or ""), "args": args}}
    try:  # any other question: JSON if it parses, else the text itself
        return json.loads(text)
    except ValueError:
        return text


def _status(exc: BaseException) -> int:
    """The HTTP status a refused request gets: 409 when the thread moved on or is busy."""
    if isinstance(exc, ThreadBusyError | UnknownInterruptError | NothingToResumeError):
        return 409
    if isinstance(exc, ResumeError | InvalidUpdateError | ValueError):
        return 400
    return 500


def _waiting_json(entry: Any) -> dict[str, Any]:
    return {
        "thread_id": entry.thread_id,
        "checkpoint_id": entry.checkpoint_id,
        "graph": entry.graph,
        "paused_at": entry.paused_at,
        "metadata": jsonable(dict(entry.metadata)),
        "interrupts": [
            {"id": i.id, "node": i.node, "value": jsonable(i.value)} for i in entry.interrupts
        ],
        "answer_url": f"/threads/{quote(entry.thread_id)}/answer",
    }
