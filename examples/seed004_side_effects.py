"""Seed 004 (Interrupts guide), "Side effects called before interrupt must be idempotent".

Each of the guide's five nodes runs on its own thread: pause, then resume with
``True``. A fake ``db`` records every call, so the output shows which side effects
ran twice (the node re-runs from the top on resume). The seed's
``notification_node`` reads ``state.approved``, which fails on a dict state; it reads
``state["approved"]`` here.
"""

from datetime import datetime

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    user_id: str
    approved: bool
    audit_id: int


class FakeDB:
    def __init__(self):
        self.calls = []
        self.users = {}
        self.audit_log = []
        self.history = {}

    def upsert_user(self, user_id, status):
        self.calls.append(f"upsert_user({user_id}, {status})")
        self.users[user_id] = status

    def create_audit_log(self, record=None, **fields):
        record = dict(record or fields)
        record.pop("timestamp", None)
        self.calls.append(f"create_audit_log({record})")
        self.audit_log.append(record)
        return len(self.audit_log)

    def append_to_history(self, user_id, event):
        self.calls.append(f"append_to_history({user_id}, {event})")
        self.history.setdefault(user_id, []).append(event)


db = FakeDB()


def send_notification(user_id, status):
    db.calls.append(f"send_notification({user_id}, {status})")


def idempotent_node(state: State):
    # Good: using upsert operation which is idempotent
    # Running this multiple times will have the same result
    db.upsert_user(
        user_id=state["user_id"],
        status="pending_approval",
    )

    approved = interrupt("Approve this change?")
    return {"approved": approved}


def after_interrupt_node(state: State):
    # Good: placing side effect after the interrupt
    # This ensures it only runs once after approval is received
    approved = interrupt("Approve this change?")

    if approved:
        db.create_audit_log(
            user_id=state["user_id"],
            action="approved",
        )

    return {"approved": approved}


def approval_node(state: State):
    # Good: only handling the interrupt in this node
    approved = interrupt("Approve this change?")

    return {"approved": approved}


def notification_node(state: State):
    # Good: side effect happens in a separate node
    # This runs after approval, so it only executes once
    if state["approved"]:
        send_notification(
            user_id=state["user_id"],
            status="approved",
        )

    return state


def creating_records_node(state: State):
    # Bad: creating a new record before interrupt
    # This will create duplicate records on each resume
    audit_id = db.create_audit_log(
        {
            "user_id": state["user_id"],
            "action": "pending_approval",
            "timestamp": datetime.now(),
        }
    )

    approved = interrupt("Approve this change?")

    return {"approved": approved, "audit_id": audit_id}


def appending_node(state: State):
    # Bad: appending to a list before interrupt
    # This will add duplicate entries on each resume
    db.append_to_history(state["user_id"], "approval_requested")

    approved = interrupt("Approve this change?")

    return {"approved": approved}


def build(*nodes):
    builder = StateGraph(State)
    previous = START
    for node in nodes:
        builder.add_node(node.__name__, node)
        builder.add_edge(previous, node.__name__)
        previous = node.__name__
    builder.add_edge(previous, END)
    return builder.compile(checkpointer=InMemorySaver())


cases = [
    ("idempotent operations", (idempotent_node,)),
    ("side effects after interrupt", (after_interrupt_node,)),
    ("separating into different nodes", (approval_node, notification_node)),
    ("creating records (bad)", (creating_records_node,)),
    ("appending to lists (bad)", (appending_node,)),
]
for label, nodes in cases:
    print(f"--- {label} ---")
    db.calls.clear()
    graph = build(*nodes)
    config = {"configurable": {"thread_id": "1"}}
    paused = graph.invoke({"user_id": "u1"}, config)
    print("paused:", paused["__interrupt__"][0].value)
    print("result:", graph.invoke(Command(resume=True), config))
    for call in db.calls:
        print("  db:", call)

print("audit log:", db.audit_log)
print("history:", db.history)
print("users:", db.users)
