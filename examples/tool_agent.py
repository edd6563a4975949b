"""A tool-calling agent whose emails a person reviews: approve, edit or reject.

The model asks for three emails at once. Each call pauses on its own, with
its own interrupt id and an Agent Inbox request, and the person answers each
by id: accept Ada's, edit Bob's subject, and reject the one to everyone with
a reason, which the model gets as that call's result. (Answering only some of
them is fine too: the others keep waiting.)

It runs offline with a scripted model. With ``langchain-core`` installed, any
LangChain chat model works in its place::

    from langchain.chat_models import init_chat_model
    agent = build_agent(init_chat_model("anthropic:claude-sonnet-4-5"), InMemorySaver())
"""

from typing import Any

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import START, MessagesState, StateGraph
from pausegraph.prebuilt import ToolNode, tools_condition, with_human_review
from pausegraph.types import Command


def send_email(to: str, subject: str, body: str) -> str:
    """Send an email.

    Args:
        to: The recipient's address.
        subject: The subject line.
        body: The text.
    """
    return f"Sent to {to}: {subject!r}"


TOOLS = [with_human_review(send_email, {"allow_ignore": False})]


class ScriptedModel:
    """Stands in for a chat model: answers with the next turn of a script."""

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = turns

    def bind_tools(self, tools: list[Any]) -> "ScriptedModel":
        return self

    def invoke(self, messages: list[Any]) -> dict[str, Any]:
        return self.turns.pop(0)


def build_agent(model: Any, checkpointer: Any) -> Any:
    """The agent loop: the model answers, its tool calls run (after review), repeat."""
    model = model.bind_tools(TOOLS)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node(ToolNode(TOOLS))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)


def email(call_id: str, to: str) -> dict[str, Any]:
    args = {"to": to, "subject": "Lunch", "body": "Lunch on Friday?"}
    return {"id": call_id, "name": "send_email", "args": args}


SCRIPT = [
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            email("call_1", "ada@example.com"),
            email("call_2", "bob@example.com"),
            email("call_3", "all@example.com"),
        ],
    },
    {"role": "assistant", "content": "Ada and Bob are invited; I did not email everyone."},
]


def review(request: dict[str, Any]) -> dict[str, Any]:
    """What the person answers (a UI would ask; here the answers are fixed)."""
    args = request["action_request"]["args"]
    if args["to"] == "ada@example.com":
        return {"type": "accept"}
    if args["to"] == "bob@example.com":
        edited = {**args, "subject": "Lunch on Friday, 12:30"}
        return {"type": "edit", "args": {"action": "send_email", "args": edited}}
    return {"type": "response", "args": "Don't email everyone, just Ada and Bob."}


ROLES = {"human": "user", "ai": "assistant"}
"""LangChain's message types (with langchain-core installed) by their dict role."""


def show(message: Any) -> str:
    role, content = (
        (message["role"], message["content"])
        if isinstance(message, dict)
        else (ROLES.get(message.type, message.type), message.content)
    )
    return f"{role:>9}: {content}"


def main() -> None:
    agent = build_agent(ScriptedModel(SCRIPT), InMemorySaver())
    config = {"configurable": {"thread_id": "lunch"}}
    ask = {"role": "user", "content": "Invite Ada and Bob to lunch on Friday."}
    requests = agent.invoke({"messages": [ask]}, config)["__interrupt__"]
    print(f"{len(requests)} emails wait for review")
    answers = {request.id: review(request.value) for request in requests}
    result = agent.invoke(Command(resume=answers), config)
    for message in result["messages"]:
        print(show(message))


if __name__ == "__main__":
    main()
