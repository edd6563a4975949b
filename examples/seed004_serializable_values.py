"""Seed 004 (Interrupts guide), "Do not return complex values in interrupt calls".

The good ways (simple values, dicts of simple values) pause and resume; the bad ways
(a function, a class instance inside the payload) fail because the payload cannot be
stored. The failure is shown by the LangGraph-compatible class (TypeError).
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class State(TypedDict):
    name: str
    count: int
    approved: bool
    user: dict
    result: str


def simple_values(state: State):
    # Good: passing simple types that are serializable
    name = interrupt("What's your name?")
    count = interrupt(42)
    approved = interrupt(True)

    return {"name": name, "count": count, "approved": approved}


def structured_data(state: State):
    # Good: passing dictionaries with simple values
    response = interrupt(
        {
            "question": "Enter user details",
            "fields": ["name", "email", "age"],
            "current_values": state.get("user", {}),
        }
    )

    return {"user": response}


def validate_input(value):
    return len(value) > 0


def with_function(state: State):
    # Bad: passing a function to interrupt
    # The function cannot be serialized
    response = interrupt(
        {
            "question": "What's your name?",
            "validator": validate_input,  # This will fail
        }
    )

    return {"name": response}


class DataProcessor:
    def __init__(self, config):
        self.config = config


def with_instance(state: State):
    processor = DataProcessor({"mode": "strict"})

    # Bad: passing a class instance to interrupt
    # The instance cannot be serialized
    response = interrupt(
        {
            "question": "Enter data to process",
            "processor": processor,  # This will fail
        }
    )
    return {"result": response}


def build(node):
    builder = StateGraph(State)
    builder.add_node("node_a", node)
    builder.add_edge(START, "node_a")
    builder.add_edge("node_a", END)
    return builder.compile(checkpointer=InMemorySaver())


print("--- simple values ---")
graph = build(simple_values)
config = {"configurable": {"thread_id": "1"}}
print(graph.invoke({"name": ""}, config)["__interrupt__"])
print(graph.invoke(Command(resume="Ada"), config)["__interrupt__"])
print(graph.invoke(Command(resume=7), config)["__interrupt__"])
print(graph.invoke(Command(resume=False), config))

print("--- structured data ---")
graph = build(structured_data)
config = {"configurable": {"thread_id": "1"}}
print(graph.invoke({"user": {"name": "Ada"}}, config)["__interrupt__"])
reply = {"name": "Ada", "email": "ada@example.com", "age": 36}
print(graph.invoke(Command(resume=reply), config))

for label, node in [("function", with_function), ("class instance", with_instance)]:
    print(f"--- {label} ---")
    graph = build(node)
    config = {"configurable": {"thread_id": "1"}}
    try:
        print(graph.invoke({"name": ""}, config))
    except Exception as exc:
        print("TypeError:", isinstance(exc, TypeError))
