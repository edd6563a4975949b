"""Tool calls reviewed by a person: accept, edit, respond or ignore (the Agent Inbox schema).

:func:`with_human_review` wraps a tool so that each call first pauses with a
:class:`HumanInterrupt` and continues with the person's :class:`HumanResponse`.
The answer is checked against a JSON Schema built for that one interrupt from
its config and the tool's arguments, so an answer type that is not allowed
(an edit of a tool that may not be edited, say), an edit whose arguments do not
fit the tool, or a malformed answer is refused with ``ResumeValidationError``
before anything is written: the thread stays as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from pausegraph.errors import GraphBuildError
from pausegraph.prebuilt._agent_inbox import HumanInterrupt, HumanInterruptConfig
from pausegraph.prebuilt._tools import Tool, as_tool, is_langchain_tool
from pausegraph.types import interrupt

__all__ = ["answer_schema", "with_human_review"]

_KINDS = {
    "allow_accept": ("accept", "run it as it is"),
    "allow_edit": ("edit", "change its arguments, then run it"),
    "allow_respond": ("response", "do not run it; your text goes to the model as its result"),
    "allow_ignore": ("ignore", "do not run it"),
}


def with_human_review(
    tool: Any,
    config: Mapping[str, bool] | None = None,
    *,
    description: str | None = None,
) -> Any:
    """Make every call of ``tool`` wait for a person's review before it runs.

    The call pauses with an Agent Inbox request::

        {"action_request": {"action": "<tool name>", "args": {...}},
         "config": {"allow_accept": True, "allow_edit": True,
                    "allow_respond": True, "allow_ignore": True},
         "description": "..."}

    and is resumed (``Command(resume={interrupt_id: answer})``) with one of::

        {"type": "accept"}                                    # run it as asked
        {"type": "edit", "args": {"action": "<tool name>", "args": {...}}}
        {"type": "response", "args": "why not"}               # text back to the model
        {"type": "ignore"}                                    # skip it

    Give the wrapped tool to :class:`ToolNode` (and to the model's
    ``bind_tools``) in place of the original; it keeps the name, docstring and
    arguments. Several reviewed calls in one model turn pause side by side,
    each with its own interrupt id.

    Args:
        tool: A plain function (sync or async) or a LangChain tool.
        config: Which answers are allowed (``allow_accept``, ``allow_edit``,
            ``allow_respond``, ``allow_ignore``); keys left out are allowed.
        description: Shown to the person; by default it names the tool and the
            allowed answers.

    Returns:
        A function with the same signature (or, for a LangChain tool, a
        LangChain tool with the same name and arguments).

    Raises:
        GraphBuildError: ``config`` names an unknown key or allows no answer at all.
    """
    spec = as_tool(tool)
    review = _Review(spec, _config(config), description)
    if is_langchain_tool(tool):
        return _review_langchain_tool(tool, review)
    fn: Callable[..., Any] = tool
    if spec.is_async:

        @functools.wraps(fn)
        async def areviewed(**args: Any) -> Any:
            run, value = review.decide(args)
            return await fn(**value) if run else value

        return areviewed

    @functools.wraps(fn)
    def reviewed(**args: Any) -> Any:
        run, value = review.decide(args)
        return fn(**value) if run else value

    return reviewed


class _Review:
    """The review of one tool's calls: the request, the answer schema, the decision."""

    def __init__(self, tool: Tool, config: HumanInterruptConfig, description: str | None) -> None:
        self.name = tool.name
        self.config = config
        self.description = description or _describe(tool.name, config)
        self.schema = answer_schema(tool.name, tool.schema, config)

    def request(self, args: Mapping[str, Any]) -> HumanInterrupt:
        """The interrupt payload for a call with ``args``."""
        return {
            "action_request": {"action": self.name, "args": dict(args)},
            "config": self.config.copy(),
            "description": self.description,
        }

    def decide(self, args: Mapping[str, Any]) -> tuple[bool, Any]:
        """Ask the person; ``(True, arguments to run with)`` or ``(False, the tool's result)``."""
        answer = interrupt(self.request(args), response_schema=self.schema)
        kind = answer["type"]
        if kind == "accept":
            return True, dict(args)
        if kind == "edit":
            return True, dict(answer["args"]["args"])
        if kind == "response":
            return False, answer["args"]
        return False, f"The reviewer ignored this call to {self.name}; it was not run."


def answer_schema(
    name: str, args_schema: Mapping[str, Any], config: HumanInterruptConfig
) -> dict[str, Any]:
    """The JSON Schema of the answers ``config`` allows for a call of tool ``name``.

    Each allowed answer type is one exact form; an edit's ``args`` must name
    this tool and fit ``args_schema``.
    """
    schema = dict(args_schema)
    defs = schema.pop("$defs", None)  # refs resolve from the root, so hoist them there
    nothing: dict[str, Any] = {"type": "null"}
    edit: dict[str, Any] = {
        "type": "object",
        "properties": {"action": {"const": name}, "args": schema},
        "required": ["action", "args"],
        "additionalProperties": False,
    }
    args_of: dict[str, dict[str, Any]] = {
        "accept": nothing,
        "edit": edit,
        "response": {"type": "string"},
        "ignore": nothing,
    }
    forms = [
        _form(kind, args_of[kind], needs_args=kind in ("edit", "response"))
        for key, (kind, _) in _KINDS.items()
        if config[key]  # type: ignore[literal-required]
    ]
    root: dict[str, Any] = forms[0] if len(forms) == 1 else {"anyOf": forms}
    if defs:
        root["$defs"] = defs
    return root


def _form(kind: str, args: Mapping[str, Any], *, needs_args: bool) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"type": {"const": kind}, "args": dict(args)},
        "required": ["type", "args"] if needs_args else ["type"],
        "additionalProperties": False,
    }


def _config(config: Mapping[str, bool] | None) -> HumanInterruptConfig:
    given = dict(config or {})
    unknown = sorted(set(given) - set(_KINDS))
    if unknown:
        raise GraphBuildError(
            f"Unknown review config key(s) {', '.join(map(repr, unknown))}; the keys are "
            f"{', '.join(_KINDS)}."
        )
    full: HumanInterruptConfig = {
        "allow_accept": bool(given.get("allow_accept", True)),
        "allow_edit": bool(given.get("allow_edit", True)),
        "allow_respond": bool(given.get("allow_respond", True)),
        "allow_ignore": bool(given.get("allow_ignore", True)),
    }
    if not any(full.values()):
        raise GraphBuildError("A review config must allow at least one answer; all four are False.")
    return full


def _describe(name: str, config: HumanInterruptConfig) -> str:
    allowed = [
        f'"{kind}" ({meaning})'
        for key, (kind, meaning) in _KINDS.items()
        if config[key]  # type: ignore[literal-required]
    ]
    return f"Review this call to {name}. Answer with " + ", ".join(allowed) + "."


def _review_langchain_tool(tool: Any, review: _Review) -> Any:
    from langchain_core.tools import StructuredTool

    def reviewed(**args: Any) -> Any:
        run, value = review.decide(args)
        return tool.invoke(value) if run else value

    async def areviewed(**args: Any) -> Any:
        run, value = review.decide(args)
        return await tool.ainvoke(value) if run else value

    sync_capable = getattr(tool, "func", True) is not None
    return StructuredTool.from_function(
        func=reviewed if sync_capable else None,
        coroutine=areviewed,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
    )
