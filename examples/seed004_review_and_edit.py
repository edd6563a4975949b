"""Seed 004 (Interrupts guide), "Review and edit state": full example.

``review_node`` shows the generated text and stores whatever the reviewer sends back
with ``Command(resume=...)``.
"""

from typing_extensions import TypedDict

from pausegraph.checkpoint.memory import MemorySaver
from pausegraph.graph import END, START, StateGraph
from pausegraph.types import Command, interrupt


class ReviewState(TypedDict):
    generated_text: str


def review_node(state: ReviewState):
    # Ask a reviewer to edit the generated content
    updated = interrupt(
        {
            "instruction": "Review and edit this content",
            "content": state["generated_text"],
        }
    )

    return {"generated_text": updated}


builder = StateGraph(ReviewState)
builder.add_node("review", review_node)
builder.add_edge(START, "review")
builder.add_edge("review", END)

checkpointer = MemorySaver()
graph = builder.compile(checkpointer=checkpointer)

config = {"configurable": {"thread_id": "review-42"}}

initial = graph.invoke({"generated_text": "Initial draft"}, config=config)
print(initial["__interrupt__"])
# -> [Interrupt(value={'instruction': ..., 'content': ...})]

# Resume with the edited text from the reviewer
final_state = graph.invoke(
    Command(resume="Improved draft after review"),
    config=config,
)
print(final_state["generated_text"])
# -> "Improved draft after review"
