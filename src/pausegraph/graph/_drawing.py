"""Turn a graph spec into a :class:`~pausegraph.graph._draw.DrawableGraph`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pausegraph.constants import END, START
from pausegraph.graph._draw import DrawableGraph, DrawEdge
from pausegraph.graph._spec import GraphSpec

__all__ = ["drawable"]


def drawable(
    spec: GraphSpec,
    interrupt_before: Collection[str] | None = None,
    interrupt_after: Collection[str] | None = None,
    xray: int | bool = False,
) -> DrawableGraph:
    """The nodes and edges of ``spec``: plain edges solid, routing dotted.

    As LangGraph: edges sorted, then an edge to END from each node that
    leads nowhere; nodes show their metadata, ``defer`` and breakpoints.
    With ``xray`` (``True``, or how many levels deep) a subgraph node is
    drawn as the subgraph's own nodes, named ``"node:inner"``.
    """
    graph = _drawable(spec, interrupt_before, interrupt_after)
    if not xray:
        return graph
    deeper = xray if isinstance(xray, bool) else xray - 1
    for name, node in spec.nodes.items():
        sub = node.subgraph
        if sub is not None:
            inner = drawable(
                sub.spec, sub.interrupt_before_nodes, sub.interrupt_after_nodes, deeper
            )
            graph = _inline(graph, name, inner)
    return graph


def _inline(graph: DrawableGraph, name: str, sub: DrawableGraph) -> DrawableGraph:
    """``graph`` with node ``name`` replaced by the nodes of ``sub`` (LangGraph's xray)."""
    nodes, edges = list(sub.nodes), list(sub.edges)
    first, last = _ends(nodes, edges)
    if len(nodes) <= 1 or first is None or last is None:
        return graph
    # Drop the subgraph's __start__ and __end__ when that leaves it one first and last node.
    if _ends([n for n in nodes if n != first], [e for e in edges if e.source != first])[0] and (
        sum(e.source == first for e in edges) == 1
    ):
        nodes.remove(first)
        edges = [e for e in edges if e.source != first and e.target != first]
    first, last = _ends(nodes, edges)
    if (
        last is not None
        and _ends([n for n in nodes if n != last], [e for e in edges if e.target != last])[1]
        and sum(e.target == last for e in edges) == 1
    ):
        nodes.remove(last)
        edges = [e for e in edges if e.source != last and e.target != last]
    first, last = _ends(nodes, edges)
    entry, exit_ = f"{name}:{first}", f"{name}:{last}"

    def moved(edge: DrawEdge) -> DrawEdge:
        source = exit_ if edge.source == name else edge.source
        target = entry if edge.target == name else edge.target
        return DrawEdge(source, target, edge.conditional, edge.label)

    inner = [
        DrawEdge(f"{name}:{e.source}", f"{name}:{e.target}", e.conditional, e.label) for e in edges
    ]
    metadata = {k: v for k, v in graph.metadata.items() if k != name}
    metadata.update({f"{name}:{k}": v for k, v in sub.metadata.items() if k in nodes})
    return DrawableGraph(
        nodes=(*(n for n in graph.nodes if n != name), *(f"{name}:{n}" for n in nodes)),
        edges=(*map(moved, graph.edges), *inner),
        metadata=metadata,
    )


def _ends(nodes: list[str], edges: list[DrawEdge]) -> tuple[str | None, str | None]:
    """The only node no edge enters, and the only one no edge leaves (None if not one)."""
    targets = {e.target for e in edges}
    sources = {e.source for e in edges}
    firsts = [n for n in nodes if n not in targets]
    lasts = [n for n in nodes if n not in sources]
    return (firsts[0] if len(firsts) == 1 else None, lasts[0] if len(lasts) == 1 else None)


def _drawable(
    spec: GraphSpec,
    interrupt_before: Collection[str] | None,
    interrupt_after: Collection[str] | None,
) -> DrawableGraph:
    """The graph of ``spec`` alone, its subgraph nodes as single nodes."""
    edges: list[DrawEdge] = []
    seen: set[tuple[str, str]] = set()

    def add(source: str, target: str, conditional: bool, label: str | None = None) -> None:
        if (source, target) in seen:
            return
        seen.add((source, target))
        edges.append(DrawEdge(source, target, conditional, label))

    everything = (*spec.nodes, END)
    for source in (START, *spec.nodes):
        for target in spec.edges.get(source, ()):
            add(source, target, False)
        for branch in spec.branches.get(source, ()):
            if branch.path_map is not None:
                by_target: dict[str, str | None] = {}
                for key, target in branch.path_map.items():
                    by_target.setdefault(target, None if key == target else str(key))
                for target in sorted(by_target):
                    add(source, target, True, by_target[target])
            else:
                for target in sorted(branch.ends or everything):
                    add(source, target, True)
        node = spec.nodes.get(source)
        if node is not None and node.ends:
            for target in sorted(node.ends):
                add(source, target, True)
    for sources, target in spec.joins:
        for source in sources:
            add(source, target, False)
    # Sorted, then the plain edges to END: from each node that leads nowhere else.
    to_end = {e.source for e in edges if e.target == END and not e.conditional}
    edges = [e for e in edges if e.target != END or e.conditional]
    edges.sort(key=lambda e: (e.source, e.target, e.conditional, e.label or ""))
    leaves = {e.target for e in edges} - {e.source for e in edges} - {END}
    for leaf in sorted(leaves | to_end):
        edges.append(DrawEdge(leaf, END))
    used = {e.source for e in edges} | {e.target for e in edges}
    nodes = [START, *spec.nodes]
    if END in used:
        nodes.append(END)
    metadata: dict[str, dict[str, Any]] = {}
    for name, node in spec.nodes.items():
        notes = dict(node.metadata or {})
        if node.defer:
            notes["defer"] = True
        # LangGraph shows no breakpoint for "*" (every node).
        before = name in (interrupt_before or ()) and "*" not in (interrupt_before or ())
        after = name in (interrupt_after or ()) and "*" not in (interrupt_after or ())
        if before or after:
            notes["__interrupt"] = ",".join(
                w for w, on in (("before", before), ("after", after)) if on
            )
        tools = getattr(node.fn, "tools_by_name", None)
        if isinstance(tools, Mapping) and tools:
            notes["__tools"] = list(tools)
        if notes:
            metadata[name] = notes
    return DrawableGraph(nodes=tuple(nodes), edges=tuple(edges), metadata=metadata)
