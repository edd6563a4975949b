"""The inbox page: waiting threads and answer forms, as plain HTML (no JavaScript needed)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

__all__ = ["inbox_page", "is_review_request", "jsonable"]

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
main{max-width:880px;margin:0 auto;padding:16px 24px}
.thread{background:#fff;border:1px solid #dde1e7;border-left:4px solid #e8912d;
border-radius:6px;padding:12px 16px;margin:14px 0}
.thread h2{font-size:16px;margin:0 0 4px}
.meta{color:#5b6475;font-size:13px}
.ask{border-top:1px solid #eef0f3;margin-top:10px;padding-top:10px}
pre{background:#f3f4f7;padding:8px;border-radius:4px;overflow:auto;font-size:13px}
form{margin:8px 0}
form.inline{display:inline-block;margin-right:8px}
label{display:block;font-size:13px;color:#5b6475;margin-bottom:2px}
textarea{width:100%;max-width:560px;height:70px;font:13px monospace;display:block;margin-bottom:4px}
button{font:inherit;padding:4px 12px;border-radius:4px;border:1px solid #9aa3b2;
background:#fff;cursor:pointer}
button.primary{background:#2d6be8;border-color:#2d6be8;color:#fff}
.notice{background:#e7f5ea;border:1px solid #9ccfa6;padding:8px 12px;border-radius:4px}
.error{background:#fdecea;border:1px solid #f0a9a0;padding:8px 12px;border-radius:4px}
.empty{color:#5b6475;font-style:italic}
"""


def inbox_page(
    title: str,
    waiting: Sequence[Any],
    *,
    notice: str | None = None,
    error: str | None = None,
) -> str:
    """The whole page for ``waiting`` (``WaitingThread`` entries, oldest pause first)."""
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(title)} inbox</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{escape(title)}: waiting for a person</h1></header><main>",
    ]
    if notice:
        parts.append(f"<p class=notice role=status>{escape(notice)}</p>")
    if error:
        parts.append(f"<p class=error role=alert>{escape(error)}</p>")
    count = len(waiting)
    parts.append(f"<p>{count} thread{'s' if count != 1 else ''} waiting.</p>")
    if not waiting:
        parts.append("<p class=empty>Nothing waits for an answer.</p>")
    for entry in waiting:
        parts.append(_thread(entry))
    parts.append("</main></body></html>")
    return "".join(parts)


def _thread(entry: Any) -> str:
    url = f"/threads/{quote(entry.thread_id, safe='')}/answer"
    out = [
        f'<section class=thread data-thread="{escape(entry.thread_id)}">',
        f"<h2>{escape(entry.thread_id)}</h2>",
        f"<div class=meta>paused {escape(entry.paused_at)} &middot; graph "
        f"{escape(entry.graph)}</div>",
    ]
    for ask in entry.interrupts:
        out.append(_question(url, ask))
    out.append("</section>")
    return "".join(out)


def _question(url: str, ask: Any) -> str:
    value = ask.value
    out = [f'<div class=ask data-interrupt="{escape(ask.id)}">']
    out.append(f"<div class=meta>node {escape(ask.node)} &middot; interrupt {escape(ask.id)}</div>")
    if is_review_request(value):
        out.append(_review(url, ask.id, value))
    else:
        out.append(f"<pre>{escape(_pretty(value))}</pre>")
        out.append(
            _form(
                url,
                ask.id,
                "value",
                "Answer",
                textarea="",
                hint="Your answer (JSON, or plain text):",
                primary=True,
            )
        )
    out.append("</div>")
    return "".join(out)


def is_review_request(value: Any) -> bool:
    """Whether ``value`` is an Agent Inbox ``HumanInterrupt`` (action request plus config)."""
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("action_request"), Mapping)
        and isinstance(value.get("config"), Mapping)
    )


def _review(url: str, interrupt_id: str, value: Mapping[str, Any]) -> str:
    request, config = value["action_request"], value["config"]
    action = str(request.get("action", ""))
    args = request.get("args", {})
    out = [f"<p><strong>{escape(action)}</strong></p><pre>{escape(_pretty(args))}</pre>"]
    if value.get("description"):
        out.append(f"<p>{escape(str(value['description']))}</p>")
    if config.get("allow_accept"):
        out.append(_form(url, interrupt_id, "accept", "Accept", action=action, primary=True))
    if config.get("allow_ignore"):
        out.append(_form(url, interrupt_id, "ignore", "Ignore", action=action))
    if config.get("allow_edit"):
        out.append(
            _form(
                url,
                interrupt_id,
                "edit",
                "Run with these arguments",
                textarea=_pretty(args),
                action=action,
                hint="Edit the arguments (JSON), then run it:",
            )
        )
    if config.get("allow_respond"):
        out.append(
            _form(
                url,
                interrupt_id,
                "response",
                "Respond instead",
                textarea="",
                action=action,
                hint="Or do not run it, and tell the model why:",
            )
        )
    return "".join(out)


def _form(
    url: str,
    interrupt_id: str,
    kind: str,
    label: str,
    *,
    textarea: str | None = None,
    action: str = "",
    hint: str = "",
    primary: bool = False,
) -> str:
    fields = [
        f'<form method=post action="{escape(url)}" data-kind="{kind}">',
        f'<input type=hidden name=interrupt_id value="{escape(interrupt_id)}">',
        f'<input type=hidden name=kind value="{kind}">',
        f'<input type=hidden name=action value="{escape(action)}">',
    ]
    if textarea is None:
        fields[0] = fields[0].replace("<form ", "<form class=inline ", 1)
    else:
        if hint:
            fields.append(f"<label>{escape(hint)}</label>")
        fields.append(
            f'<textarea name=text aria-label="{escape(label)}">{escape(textarea)}</textarea>'
        )
    css = " class=primary" if primary else ""
    fields.append(f"<button type=submit{css}>{escape(label)}</button></form>")
    return "".join(fields)


def _pretty(value: Any) -> str:
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False, sort_keys=False)


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: models and dataclasses as their fields, the rest as its repr."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # NamedTuples
        return jsonable(value._asdict())
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "model_dump"):  # pydantic models, LangChain messages
        return jsonable(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    return repr(value)
