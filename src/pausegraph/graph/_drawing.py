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
) -> DrawableGraph:
    """The nodes and edges of ``spec``: plain edges solid, routing dotted.

    As LangGraph: edges sorted, then an edge to END from each node that
    leads nowhere; nodes show their metadata, ``defer`` and breakpoints.
    """
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
