"""What a compiled graph tells about itself, and the cache it keeps: LangGraph's accessors.

Its name and input/output JSON Schemas, its picture, the graphs it runs as
nodes, and forgetting the node results its cache holds. A mixin of
:class:`~pausegraph.graph.CompiledStateGraph` (which sets ``spec``, ``name``,
``cache`` and the breakpoint sets these read).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pausegraph.errors import InvalidConfigError
from pausegraph.graph._threads import subgraph_of

if TYPE_CHECKING:
    from pausegraph.graph._compiled import CompiledStateGraph
    from pausegraph.graph._draw import DrawableGraph
    from pausegraph.graph._spec import GraphSpec

__all__ = ["DescribeAPI"]


class DescribeAPI:
    """Name, schemas, picture, subgraphs and cache clearing of a compiled graph."""

    spec: GraphSpec
    name: str
    cache: Any
    interrupt_before_nodes: frozenset[str] | None
    interrupt_after_nodes: frozenset[str] | None

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Forget the cached results of ``nodes`` (of every node when ``None``).

        Raises:
            InvalidConfigError: The graph was compiled without ``cache=...``.
        """
        self._cache_or_raise().clear(self._cache_namespaces(nodes))

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Async :meth:`clear_cache`."""
        await self._cache_or_raise().aclear(self._cache_namespaces(nodes))

    def _cache_or_raise(self) -> Any:
        if self.cache is None:
            raise InvalidConfigError(
                "This graph has no cache to clear: compile it with cache=InMemoryCache() "
                "(pausegraph.cache.memory) for nodes with a cache_policy to use one."
            )
        return self.cache

    def _cache_namespaces(self, nodes: Sequence[str] | None) -> list[tuple[str, ...]]:
        """Where the results of ``nodes`` are kept (the run loop's keys: graph, node).

        As in LangGraph, an entrypoint's tasks' results stay (``cache.clear()`` drops them).
        """
        names = list(nodes) if nodes is not None else list(self.spec.nodes)
        unknown = [n for n in names if n not in self.spec.nodes]
        if unknown:
            raise InvalidConfigError(
                f"clear_cache names {', '.join(map(repr, unknown))}, which are not nodes; "
                f"known nodes: {', '.join(map(repr, self.spec.nodes))}."
            )
        return [(self.spec.name, n) for n in names]

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The graph's name (``compile(name=...)``), with ``suffix`` joined as LangChain does."""
        base = name or self.name
        if not suffix:
            return base
        return base + suffix.title() if base[:1].isupper() else f"{base}_{suffix.lower()}"

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The JSON Schema of a run's input: the input schema's keys (the state's by default)."""
        return self.spec.input.json_schema()

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The JSON Schema of what a run returns: the output schema's keys."""
        return self.spec.output.json_schema()

    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> DrawableGraph:
        """The graph's nodes and edges, drawable as Mermaid, ASCII or PNG."""
        from pausegraph.graph._drawing import drawable

        return drawable(self.spec, self.interrupt_before_nodes, self.interrupt_after_nodes, xray)

    async def aget_graph(self, config: Any = None, *, xray: int | bool = False) -> DrawableGraph:
        """Async :meth:`get_graph`."""
        return self.get_graph(config, xray=xray)

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, CompiledStateGraph]]:
        """The graphs added as nodes or called by them: ``(node name, graph)``, deeper ones as ``"a|b"``.

        Args:
            namespace: Only the one under this node name.
            recurse: Also the subgraphs of subgraphs.
        """
        for name, node in self.spec.nodes.items():
            if namespace is not None and name != namespace:
                continue
            subgraph = subgraph_of(self, node)
            if subgraph is None:
                continue
            yield name, subgraph
            if recurse:
                for inner, graph in subgraph.get_subgraphs(recurse=True):
                    yield f"{name}|{inner}", graph

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, CompiledStateGraph]]:
        """Async :meth:`get_subgraphs`."""
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item
