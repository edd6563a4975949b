"""The validated, immutable description of a graph that the runtime executes.

The builder (:class:`~pausegraph.graph.StateGraph`) produces a :class:`GraphSpec`;
nothing in here runs user code.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pausegraph.channels import Channel
from pausegraph.checkpoint._records import TaskRef

if TYPE_CHECKING:
    from pausegraph.graph._schema import Schema
    from pausegraph.types import RetryPolicy

__all__ = ["Branch", "GraphSpec", "NodeSpec"]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node: its callable and how to call it.

    Attributes:
        name: Unique node name.
        fn: The user's callable (or a compiled subgraph's ``invoke``).
        is_async: ``fn`` is a coroutine function.
        input: The schema whose view the node receives.
        retry: Retry policies, tried in order; empty for none.
        kwargs: Extra keyword arguments ``fn`` accepts by name (``config``, ``writer``).
        ends: Nodes a ``Command(goto=...)`` from this node may name, if declared.
        subgraph: The compiled graph, when the node is one.
        metadata: User metadata.
        defer: Run only once nothing else is left to run (``add_node(..., defer=True)``).
        cache: How its results are cached (``add_node(..., cache_policy=...)``), if they are.
    """

    name: str
    fn: Callable[..., Any]
    is_async: bool
    input: Schema
    retry: tuple[RetryPolicy, ...] = ()
    kwargs: frozenset[str] = frozenset()
    ends: tuple[str, ...] | None = None
    subgraph: Any = None
    metadata: Mapping[str, Any] | None = None
    defer: bool = False
    cache: Any = None


@dataclass(frozen=True, slots=True)
class Branch:
    """A conditional edge: ``path(state)`` picks the next nodes after ``source``.

    Attributes:
        source: The node after which the router runs.
        path: The router callable.
        path_map: Maps router results to node names; ``None`` to use them as names.
        is_async: The router is a coroutine function.
        kwargs: Extra keyword arguments the router accepts (``config``).
        ends: Possible destinations, when known (path map or ``Literal`` annotation).
        name: The router's name, used in errors and drawings.
    """

    source: str
    path: Callable[..., Any]
    path_map: Mapping[Hashable, str] | None
    is_async: bool
    kwargs: frozenset[str]
    ends: tuple[str, ...] | None
    name: str


@dataclass(frozen=True, slots=True)
class GraphSpec:
    """A compiled graph's structure, validated and frozen.

    Attributes:
        name: The graph's name.
        state: The state schema.
        input: The input schema (the state schema unless given).
        output: The output schema (the state schema unless given).
        channels: Every key any schema declares, with its channel.
        nodes: Node name to spec (START and END excluded).
        edges: Source (START included) to its static successors.
        joins: ``(sources, target)``: run ``target`` once all ``sources`` have run.
        branches: Source to its conditional edges.
        joins_by_source: Source to the indexes of the joins it takes part in.
        node_order: Node name to its position (the order tasks are listed in).
        pull_refs: Node name to its (shared, immutable) frontier entry.
        successors: ``edges`` without END: the nodes a plain edge triggers.
        deferred: Nodes added with ``defer=True``.
    """

    name: str
    state: Schema
    input: Schema
    output: Schema
    channels: Mapping[str, Channel]
    nodes: Mapping[str, NodeSpec]
    edges: Mapping[str, tuple[str, ...]]
    joins: tuple[tuple[tuple[str, ...], str], ...]
    branches: Mapping[str, tuple[Branch, ...]]
    joins_by_source: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    node_order: Mapping[str, int] = field(default_factory=dict)
    pull_refs: Mapping[str, TaskRef] = field(default_factory=dict)
    successors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    deferred: frozenset[str] = frozenset()
