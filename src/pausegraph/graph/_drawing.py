"""Turn a graph spec into a :class:`~pausegraph.graph._draw.DrawableGraph`."""

from __future__ import annotations

from pausegraph.constants import END, START
from pausegraph.graph._draw import DrawableGraph, DrawEdge
from pausegraph.graph._spec import GraphSpec

__all__ = ["drawable"]


def drawable(spec: GraphSpec) -> DrawableGraph:
    """The nodes and edges of ``spec``: plain edges solid, routing dotted."""
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
    used = {e.source for e in edges} | {e.target for e in edges}
    nodes = [START, *spec.nodes]
    if END in used:
        nodes.append(END)
    return DrawableGraph(nodes=tuple(nodes), edges=tuple(edges))
