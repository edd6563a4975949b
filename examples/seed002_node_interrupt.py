"""Seed 002 (Breakpoints concept page), "`NodeInterrupt`" and "Updating with as_node".

``my_node`` raises NodeInterrupt for inputs longer than 5 characters. Resuming with
``None`` interrupts again; updating the state to a short input gets past it; a second
thread skips the node with ``update_state(..., values=None, as_node="my_node")``.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import MemorySaver
from pausegraph.errors import NodeInterrupt
from pausegraph.graph import END, START, StateGraph


class State(TypedDict):
    input: str


def my_node(state: State) -> State:
    if len(state["input"]) > 5:
        raise NodeInterrupt(f"Received input that is longer than 5 characters: {state['input']}")
    return state


builder = StateGraph(State)
builder.add_node("my_node", my_node)
builder.add_edge(START, "my_node")
builder.add_edge("my_node", END)
graph = builder.compile(checkpointer=MemorySaver())

thread_config = {"configurable": {"thread_id": "1"}}
for event in graph.stream({"input": "hello world"}, thread_config, stream_mode="values"):
    print(event)

# Attempt to continue the graph execution with no change to state after we hit the
# dynamic breakpoint
for event in graph.stream(None, thread_config, stream_mode="values"):
    print(event)

# Update the state to pass the dynamic breakpoint
graph.update_state(config=thread_config, values={"input": "foo"})
for event in graph.stream(None, thread_config, stream_mode="values"):
    print(event)
print("next:", graph.get_state(thread_config).next)

# ## Updating with as_node (a fresh thread)
thread_config = {"configurable": {"thread_id": "2"}}
for event in graph.stream({"input": "hello world"}, thread_config, stream_mode="values"):
    print(event)

# This update will skip the node `my_node` altogether
graph.update_state(config=thread_config, values=None, as_node="my_node")
for event in graph.stream(None, thread_config, stream_mode="values"):
    print(event)
snapshot = graph.get_state(thread_config)
print("next:", snapshot.next, "values:", snapshot.values)
