"""Seed 004 (Interrupts guide), "Interrupts in tools": full example with SqliteSaver.

``send_email`` pauses for approval before sending. Changes needed to run it offline:
- ``@tool`` (langchain) is dropped: ``send_email`` is a plain function.
- ChatAnthropic is replaced by a scripted fake whose ``invoke`` returns the same kind
  of message: an assistant message (a dict) with one ``send_email`` tool call.
- The seed's graph (START -> agent -> END) never runs the tool the model asks for, so
  it would never pause; a ``tools`` node runs the tool calls of the last message.
- The SQLite file lives in a temporary directory. ``check_same_thread=False`` is needed
  because LangGraph writes checkpoints from a worker thread.
"""

import os
import sqlite3
import tempfile

from typing_extensions import TypedDict

from pausegraph.checkpoint.sqlite import SqliteSaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class AgentState(TypedDict):
    messages: list[dict]


def send_email(to: str, subject: str, body: str):
    """Send an email to a recipient."""

    # Pause before sending; payload surfaces in result["__interrupt__"]
    response = interrupt(
        {
            "action": "send_email",
            "to": to,
            "subject": subject,
            "body": body,
            "message": "Approve sending this email?",
        }
    )

    if response.get("action") == "approve":
        final_to = response.get("to", to)
        final_subject = response.get("subject", subject)
        final_body = response.get("body", body)

        # Actually send the email (your implementation here)
        print(f"[send_email] to={final_to} subject={final_subject} body={final_body}")
        return f"Email sent to {final_to}"

    return "Email cancelled by user"


class FakeChatAnthropic:
    """Scripted stand-in for ChatAnthropic(...).bind_tools([send_email])."""

    def __init__(self, model: str):
        self.model = model
        self.tools = {}

    def bind_tools(self, tools):
        self.tools = {t.__name__: t for t in tools}
        return self

    def invoke(self, messages):
        return {
            "role": "assistant",
            "content": "I'll send that email.",
            "tool_calls": [
                {
                    "name": "send_email",
                    "args": {
                        "to": "user@example.com",
                        "subject": "Meeting",
                        "body": "Let's meet at 10am tomorrow.",
                    },
                    "id": "toolu_01",
                }
            ],
        }


model = FakeChatAnthropic(model="claude-sonnet-4-5-20250929").bind_tools([send_email])


def agent_node(state: AgentState):
    # LLM may decide to call the tool; interrupt pauses before sending
    result = model.invoke(state["messages"])
    return {"messages": state["messages"] + [result]}


def tools_node(state: AgentState):
    # Runs the tool calls of the last message (what a ToolNode does).
    results = []
    for call in state["messages"][-1].get("tool_calls", []):
        content = model.tools[call["name"]](**call["args"])
        results.append({"role": "tool", "content": content, "tool_call_id": call["id"]})
    return {"messages": state["messages"] + results}


builder = StateGraph(AgentState)
builder.add_node("agent", agent_node)
builder.add_node("tools", tools_node)
builder.add_edge(START, "agent")
builder.add_edge("agent", "tools")
builder.add_edge("tools", END)

with tempfile.TemporaryDirectory() as tmp:
    conn = sqlite3.connect(os.path.join(tmp, "tool-approval.db"), check_same_thread=False)
    checkpointer = SqliteSaver(conn)
    graph = builder.compile(checkpointer=checkpointer)

    config = {"configurable": {"thread_id": "email-workflow"}}

    initial = graph.invoke(
        {
            "messages": [
                {"role": "user", "content": "Send an email to user@example.com about the meeting"}
            ]
        },
        config=config,
    )
    print(initial["__interrupt__"])
    # -> [Interrupt(value={'action': 'send_email', ...})]

    # Resume with approval and optionally edited arguments
    resumed = graph.invoke(
        Command(resume={"action": "approve", "subject": "Updated subject"}),
        config=config,
    )
    print(resumed["messages"][-1])
    # -> Tool result returned by send_email

    # A second thread where the user cancels
    config = {"configurable": {"thread_id": "email-cancel"}}
    graph.invoke({"messages": [{"role": "user", "content": "Email the team"}]}, config=config)
    resumed = graph.invoke(Command(resume={"action": "reject"}), config=config)
    print(resumed["messages"][-1])
    conn.close()
