"""The Agent Inbox schema: how a paused tool call is shown to a person and answered.

These are the shapes LangGraph 1.x keeps in ``langgraph.prebuilt.interrupt``
and that the Agent Inbox UI reads and writes, so a client built for them
works unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

__all__ = ["ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"]


class HumanInterruptConfig(TypedDict):
    """Which answers the person may give.

    Attributes:
        allow_accept: Run the call as the model asked.
        allow_edit: Change the arguments, then run it.
        allow_respond: Do not run it; send the person's text to the model as its result.
        allow_ignore: Do not run it; tell the model it was skipped.
    """

    allow_accept: bool
    allow_edit: bool
    allow_respond: bool
    allow_ignore: bool


class ActionRequest(TypedDict):
    """A tool call as the person sees it: the tool's name and its arguments."""

    action: str
    args: dict[str, Any]


class HumanInterrupt(TypedDict):
    """The interrupt payload of a reviewed tool call."""

    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str | None


class HumanResponse(TypedDict):
    """The person's answer.

    Attributes:
        type: ``"accept"``, ``"edit"``, ``"response"`` or ``"ignore"``.
        args: ``None`` for accept and ignore (may be left out), an
            :class:`ActionRequest` for edit, the text for response.
    """

    type: Literal["accept", "ignore", "response", "edit"]
    args: str | ActionRequest | None
