"""Seed 001 (langgraph-interrupts skill), "Static Breakpoints" and "Editing State During Interrupt".

``interrupt_before=["step2"]`` and ``interrupt_after=["step3"]`` at compile time; each
``invoke(None, config)`` resumes to the next breakpoint. The seed leaves ``State`` and
the step functions undefined; here each step appends its name to ``data``. The second
part edits the state while paused, then resumes with the edited state.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph


class State(TypedDict):
    data: str


def step1(state):
    print("---step1---")
    return {"data": state["data"] + " > step1"}


def step2(state):
    print("---step2---")
    return {"data": state["data"] + " > step2"}


def step3(state):
    print("---step3---")
    return {"data": state["data"] + " > step3"}


checkpointer = InMemorySaver()

graph = (
    StateGraph(State)
    .add_node("step1", step1)
    .add_node("step2", step2)
    .add_node("step3", step3)
    .add_edge(START, "step1")
    .add_edge("step1", "step2")
    .add_edge("step2", "step3")
    .add_edge("step3", END)
    .compile(
        checkpointer=checkpointer,
        interrupt_before=["step2"],  # Pause before step2
        interrupt_after=["step3"],  # Pause after step3
    )
)

config = {"configurable": {"thread_id": "1"}}

# Run until first breakpoint
print(graph.invoke({"data": "test"}, config))
print("next:", graph.get_state(config).next)

# Resume (pauses at next breakpoint)
print(graph.invoke(None, config))  # None = resume
print("next:", graph.get_state(config).next)

# Resume again
print(graph.invoke(None, config))
print("next:", graph.get_state(config).next)

# ### Editing State During Interrupt (a fresh thread of the same graph)
config = {"configurable": {"thread_id": "edit"}}

# Run until interrupt
print(graph.invoke({"data": "test"}, config))

# Modify state before resuming
graph.update_state(config, {"data": "manually edited"})
snapshot = graph.get_state(config)
print("after update:", snapshot.values, snapshot.next, snapshot.metadata["source"])

# Resume with edited state
print(graph.invoke(None, config))
print("next:", graph.get_state(config).next)
