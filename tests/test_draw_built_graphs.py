"""How compiled graphs are drawn: ``get_graph()`` and ``get_graph(xray=...)``, as LangGraph draws them.

The expected drawings are LangGraph 1.2.22's output for the same graphs.
"""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

from pausegraph.graph import START, StateGraph

# Every Mermaid drawing starts and ends with these lines.
_HEAD = """\
---
config:
  flowchart:
    curve: linear
---
graph TD;
"""
_TAIL = """\
\tclassDef default fill:#f2f0ff,line-height:1.2
\tclassDef first fill-opacity:0
\tclassDef last fill:#bfb6fc
"""


class Docs(TypedDict):
    docs: Annotated[list[str], operator.add]


def _noop(state: Docs) -> dict[str, list[str]]:
    return {}


def _decide(state: Docs) -> Literal["generate", "rewrite"]:
    return "generate"


# Output of the same graph's get_graph().draw_mermaid() under LangGraph 1.2.22: edges
# sorted, then an edge to __end__ from the node that leads nowhere; node metadata
# and breakpoints under the node's name.
MERMAID_RAG = (
    _HEAD
    + """\
\t__start__([<p>__start__</p>]):::first
\tretrieve(retrieve)
\tgrade(grade)
\tgenerate(generate<hr/><small><em>__interrupt = before,after</em></small>)
\trewrite(rewrite)
\tnotify(notify<hr/><small><em>owner = ops
tags = a, b</em></small>)
\t__end__([<p>__end__</p>]):::last
\t__start__ --> retrieve;
\tgenerate --> notify;
\tgrade -.-> generate;
\tgrade -.-> rewrite;
\tretrieve --> grade;
\trewrite --> retrieve;
\tnotify --> __end__;
"""
    + _TAIL
)


def test_mermaid_of_a_built_graph_matches_langgraph() -> None:
    builder = StateGraph(Docs)
    for name in ("retrieve", "grade", "generate", "rewrite"):
        builder.add_node(name, _noop)
    builder.add_node("notify", _noop, metadata={"owner": "ops", "tags": ["a", "b"]})
    builder.add_edge(START, "retrieve").add_edge("retrieve", "grade")
    builder.add_conditional_edges("grade", _decide)
    builder.add_edge("rewrite", "retrieve").add_edge("generate", "notify")
    graph = builder.compile(interrupt_before=["generate"], interrupt_after=["generate"])
    assert graph.get_graph().draw_mermaid() == MERMAID_RAG
    # "*" marks no node, as in LangGraph.
    assert "__interrupt" not in builder.compile(interrupt_before="*").get_graph().draw_mermaid()


# Output of the same graph's get_graph(xray=True).draw_mermaid() under LangGraph 1.2.22.
MERMAID_XRAY = (
    _HEAD
    + """\
\t__start__([<p>__start__</p>]):::first
\tpre(pre)
\tpost(post)
\t__end__([<p>__end__</p>]):::last
\t__start__ --> pre;
\tmid\\3adeep\\3ad2 --> post;
\tpre --> mid\\3aa;
\tpost --> __end__;
\tsubgraph mid
\tmid\\3aa(a)
\tmid\\3ab(b<hr/><small><em>__interrupt = before</em></small>)
\tmid\\3aa -.-> mid\\3ab;
\tmid\\3aa -.-> mid\\3adeep\\3ad1;
\tmid\\3ab --> mid\\3adeep\\3ad1;
\tsubgraph deep
\tmid\\3adeep\\3ad1(d1)
\tmid\\3adeep\\3ad2(d2)
\tmid\\3adeep\\3ad1 --> mid\\3adeep\\3ad2;
\tend
\tend
"""
    + _TAIL
)


def _to_b_or_deep(state: Docs) -> Literal["b", "deep"]:
    return "b"


def test_mermaid_with_xray_draws_subgraphs_inside_as_langgraph() -> None:
    deep = StateGraph(Docs).add_sequence([("d1", _noop), ("d2", _noop)]).add_edge(START, "d1")
    mid = StateGraph(Docs).add_node("a", _noop).add_node("b", _noop)
    mid.add_node("deep", deep.compile()).add_edge(START, "a")
    mid.add_conditional_edges("a", _to_b_or_deep).add_edge("b", "deep")
    top = (
        StateGraph(Docs).add_node("pre", _noop).add_node("mid", mid.compile(interrupt_before=["b"]))
    )
    top.add_node("post", _noop).add_edge(START, "pre").add_edge("pre", "mid").add_edge(
        "mid", "post"
    )
    graph = top.compile().get_graph
    assert graph(xray=True).draw_mermaid() == MERMAID_XRAY
    assert graph(xray=2).draw_mermaid() == MERMAID_XRAY
    shallow = graph(xray=1).draw_mermaid()
    assert "mid\\3adeep(deep)" in shallow and "subgraph deep" not in shallow
    assert "subgraph" not in graph().draw_mermaid()
