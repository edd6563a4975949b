"""Seed 000 (notebook "How to add dynamic breakpoints with `interrupt`"): every cell.

Defines the step_1 -> step_2 -> step_3 graph whose step_2 calls ``interrupt()`` for
long inputs, then runs the notebook's five threads: a short input, a long input
resumed with ``Command(resume=...)``, ``update_state`` with a shorter input,
skipping step_2 with ``as_node``, and a second ``Command(resume=...)`` run.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import InMemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt

# seed uses RedisSaver; swap in pausegraph.checkpoint.redis.RedisSaver once available
# (the seed: `with RedisSaver.from_conn_string("redis://redis:6379") as cp: cp.setup()`)
memory = InMemorySaver()


class State(TypedDict):
    input: str


def step_1(state: State) -> State:
    print("---Step 1---")
    return state


def step_2(state: State) -> State:
    # Let's optionally raise an interrupt
    # if the length of the input is longer than 5 characters
    if len(state["input"]) > 5:
        # Use the new interrupt function instead of NodeInterrupt
        value = interrupt(
            {
                "reason": f"Input exceeds 5 characters: '{state['input']}'",
                "input_length": len(state["input"]),
                "input": state["input"],
            }
        )
        # If the interrupt is resumed with a value, we can use it
        # For example, the user could provide a shortened input
        if value and isinstance(value, str):
            return {"input": value}

    print("---Step 2---")
    return state


def step_3(state: State) -> State:
    print("---Step 3---")
    return state


builder = StateGraph(State)
builder.add_node("step_1", step_1)
builder.add_node("step_2", step_2)
builder.add_node("step_3", step_3)
builder.add_edge(START, "step_1")
builder.add_edge("step_1", "step_2")
builder.add_edge("step_2", "step_3")
builder.add_edge("step_3", END)

# Compile the graph with memory
graph = builder.compile(checkpointer=memory)
# (the seed displays graph.get_graph().draw_mermaid_png() here)

# ## Run the graph with dynamic interrupt
initial_input = {"input": "hello"}
thread_config = {"configurable": {"thread_id": "1"}}

for event in graph.stream(initial_input, thread_config, stream_mode="values"):
    print(event)

state = graph.get_state(thread_config)
print(state.next)
print(state.tasks)

initial_input = {"input": "hello world"}
thread_config = {"configurable": {"thread_id": "2"}}

# Run the graph until the first interruption
for event in graph.stream(initial_input, thread_config, stream_mode="values"):
    print(event)

state = graph.get_state(thread_config)
print("Next node:", state.next)
print("Tasks:", state.tasks)

# Check if there are interrupts and display their information.
# The seed names the loop variable `interrupt`, which shadows the imported
# function and breaks step_2 on every later run; it is renamed `item` here.
if hasattr(state, "interrupts") and state.interrupts:
    print("\nInterrupts:")
    for item in state.interrupts:
        print(f"  - Value: {item.value}")
        print(f"  - Resumable: {item.resumable}")

# Let's try resuming with a shorter input value using the Command object
# This will provide a value to the interrupt, which our step_2 function can use
for event in graph.stream(Command(resume="short"), thread_config, stream_mode="values"):
    print(event)

state = graph.get_state(thread_config)
print("Next node:", state.next)
print("Final state:", state.values)

# ## Update the graph state
# Start fresh with a new thread
initial_input = {"input": "hello world"}
thread_config = {"configurable": {"thread_id": "3"}}

# Run until interrupt
for event in graph.stream(initial_input, thread_config, stream_mode="values"):
    print(event)

print("\n--- Interrupted due to long input ---\n")

# Update the state with a shorter input
graph.update_state(config=thread_config, values={"input": "foo"})
print("State updated with shorter input\n")

# Resume execution
for event in graph.stream(None, thread_config, stream_mode="values"):
    print(event)

state = graph.get_state(thread_config)
print(f"\nFinal state: {state.values}")
print(f"Next nodes: {state.next}")

# Update the state as node `step_2` (the interrupted node) to skip it altogether
initial_input = {"input": "hello world"}
thread_config = {"configurable": {"thread_id": "4"}}

# Run the graph until the first interruption
for event in graph.stream(initial_input, thread_config, stream_mode="values"):
    print(event)

print("\n--- Interrupted due to long input ---")

# Update the state as node `step_2` to skip it altogether
graph.update_state(config=thread_config, values=None, as_node="step_2")
print("Skipped step_2 by updating state as that node\n")

# Resume execution - this will go directly to step_3
for event in graph.stream(None, thread_config, stream_mode="values"):
    print(event)

state = graph.get_state(thread_config)
print(f"\nFinal state: {state.values}")
print(f"Next nodes: {state.next}")

# ## Using Command.resume to provide a value
initial_input = {"input": "hello world"}
thread_config = {"configurable": {"thread_id": "5"}}

# Run the graph until the interruption
print("Running with long input...")
for event in graph.stream(initial_input, thread_config, stream_mode="values"):
    print(event)

# Check the interrupt information (loop variable renamed, see above)
state = graph.get_state(thread_config)
if hasattr(state, "interrupts") and state.interrupts:
    print("\n--- Interrupt Information ---")
    for item in state.interrupts:
        print(f"Interrupt value: {item.value}")

# Resume with a shorter value using Command
print("\n--- Resuming with shorter input via Command ---")
for event in graph.stream(Command(resume="hi"), thread_config, stream_mode="values"):
    print(event)

# Check final state
state = graph.get_state(thread_config)
print(f"\nFinal state: {state.values}")
print(f"Completed: {state.next == ()}")
