"""``StateGraph``: the builder users call ``add_node`` / ``add_edge`` on, then ``compile``."""

from __future__ import annotations

import typing
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from pausegraph._typeddict import is_typeddict
from pausegraph.checkpoint._records import TaskRef
from pausegraph.constants import END, RESERVED_NAMES, START
from pausegraph.errors import GraphBuildError
from pausegraph.graph._schema import Schema
from pausegraph.graph._spec import Branch, GraphSpec, NodeSpec

if TYPE_CHECKING:
    from pausegraph.graph._compiled import CompiledStateGraph
    from pausegraph.types import RetryPolicy

__all__ = ["StateGraph"]

_INJECTABLE = frozenset({"config", "writer", "runtime", "store"})


class StateGraph:
    """Build a graph whose nodes read and update a shared state.

    Args:
        state_schema: A ``TypedDict``, dataclass or pydantic model. Annotate a
            key with ``Annotated[T, reducer]`` to combine writes with ``reducer``.
        config_schema: Accepted for compatibility; unused.
        input_schema: The keys a run's input may set (default: the state's).
        output_schema: The keys a run returns (default: the state's).

    Example:
        >>> builder = StateGraph(State)
        >>> builder.add_node("step_1", step_1)
        >>> builder.add_edge(START, "step_1")
        >>> graph = builder.compile(checkpointer=InMemorySaver())
    """

    def __init__(
        self,
        state_schema: Any = None,
        config_schema: Any = None,
        *,
        input_schema: Any = None,
        output_schema: Any = None,
        context_schema: Any = None,
        input: Any = None,
        output: Any = None,
    ) -> None:
        if state_schema is None:
            raise GraphBuildError(
                "StateGraph needs a state schema, e.g. StateGraph(State) with "
                "`class State(TypedDict): ...`."
            )
        self.schema = Schema(state_schema)
        self._input = Schema(input_schema or input) if (input_schema or input) else self.schema
        self._output = Schema(output_schema or output) if (output_schema or output) else self.schema
        self.context_schema = context_schema
        self.nodes: dict[str, NodeSpec] = {}
        self.edges: list[tuple[str, str]] = []
        self.joins: list[tuple[tuple[str, ...], str]] = []
        self.branches: dict[str, list[Branch]] = {}
        self._extra_schemas: list[Schema] = []
        self.compiled = False

    @property
    def state_schema(self) -> Any:
        """The state's class, as given."""
        return self.schema.cls

    @property
    def input_schema(self) -> Any:
        """The class whose keys a run's input may set (the state's unless given)."""
        return self._input.cls

    @property
    def output_schema(self) -> Any:
        """The class whose keys a run returns (the state's unless given)."""
        return self._output.cls

    # -- nodes ---------------------------------------------------------------

    def add_node(
        self,
        node: str | Callable[..., Any],
        action: Callable[..., Any] | None = None,
        *,
        defer: bool = False,
        metadata: Mapping[str, Any] | None = None,
        input_schema: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: Any = None,
        destinations: Mapping[str, str] | tuple[str, ...] | None = None,
        input: Any = None,
        retry: RetryPolicy | Sequence[RetryPolicy] | None = None,
    ) -> StateGraph:
        """Add a node.

        Args:
            node: The node's name, or the callable itself (named after ``__name__``).
            action: The callable: takes the state, returns an update dict,
                ``None`` or a ``Command``. May be ``async``, or a compiled graph.
            defer: Run the node only once nothing else is left to run (a fan-in
                after branches of different lengths runs once, at the end).
            metadata: Stored with the node; shown in drawings.
            input_schema: The schema of the state view this node receives.
            retry_policy: Retry the node when it raises.
            destinations: Nodes a ``Command(goto=...)`` from this node may name
                (for drawings and validation).

        Returns:
            The builder, for chaining.

        Raises:
            GraphBuildError: The name is taken or reserved, or ``action`` is not callable.
        """
        if cache_policy is not None and not callable(getattr(cache_policy, "key_func", None)):
            raise GraphBuildError(
                f"cache_policy must be a CachePolicy (pausegraph.types), got {cache_policy!r}."
            )
        if not isinstance(node, str):
            action, node = node, _name_of(node)
        if action is None:
            raise GraphBuildError(f"add_node({node!r}) needs a callable as its second argument.")
        if node in self.nodes:
            raise GraphBuildError(
                f"Node {node!r} is already in the graph; give each node a unique name."
            )
        if node in RESERVED_NAMES or ":" in node or "|" in node:
            raise GraphBuildError(
                f"Node name {node!r} is reserved or contains ':' or '|'; choose another name."
            )
        schema = input_schema or input
        fn, subgraph = _callable_of(node, action, self._known_keys())
        if subgraph is not None and schema is None:
            shared = set(subgraph.spec.input.keys) & self._known_keys()
            if not shared and subgraph.spec.input.kind != "dict":
                raise GraphBuildError(
                    f"Subgraph node {node!r} shares no state key with this graph (it reads "
                    f"{sorted(subgraph.spec.input.keys)}, this graph has "
                    f"{sorted(self._known_keys())}). Give them a common key, or wrap the "
                    "subgraph in a node function that maps this graph's state to its input "
                    "and its output back."
                )
        if schema is None:
            schema = _first_param_schema(fn, self.schema.cls)
        node_schema = Schema(schema) if schema is not None else self.schema
        if node_schema is not self.schema:
            self._extra_schemas.append(node_schema)
        policies = retry_policy if retry_policy is not None else retry
        if policies is None:
            retry_tuple: tuple[RetryPolicy, ...] = ()
        elif isinstance(policies, tuple) and not hasattr(policies, "_fields"):
            retry_tuple = policies
        elif isinstance(policies, list):
            retry_tuple = tuple(policies)
        else:
            retry_tuple = (policies,)  # type: ignore[assignment]
        ends = tuple(destinations) if destinations is not None else _command_ends(fn)
        self.nodes[node] = NodeSpec(
            name=node,
            fn=fn,
            is_async=_is_async(fn),
            input=node_schema,
            retry=retry_tuple,
            kwargs=_injectable_kwargs(fn),
            ends=ends,
            subgraph=subgraph,
            metadata=metadata,
            defer=defer,
            cache=cache_policy,
        )
        return self

    def add_sequence(
        self, nodes: Sequence[Callable[..., Any] | tuple[str, Callable[..., Any]]]
    ) -> StateGraph:
        """Add nodes and chain them with edges in the given order.

        Raises:
            GraphBuildError: ``nodes`` is empty.
        """
        if not nodes:
            raise GraphBuildError("add_sequence() needs at least one node.")
        previous: str | None = None
        for item in nodes:
            name, fn = item if isinstance(item, tuple) else (_name_of(item), item)
            self.add_node(name, fn)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    def _known_keys(self) -> frozenset[str]:
        keys = set(self.schema.keys) | set(self._input.keys) | set(self._output.keys)
        for schema in self._extra_schemas:
            keys.update(schema.keys)
        return frozenset(keys)

    # -- edges ---------------------------------------------------------------

    def add_edge(self, start_key: str | Sequence[str], end_key: str) -> StateGraph:
        """Run ``end_key`` after ``start_key``; from a list of nodes, after all of them.

        Raises:
            GraphBuildError: An edge leaves END or enters START.
        """
        if isinstance(start_key, str):
            if start_key == END:
                raise GraphBuildError("END cannot be the start of an edge: nothing runs after END.")
            if end_key == START:
                raise GraphBuildError(
                    "START cannot be the end of an edge: edges into START are not allowed."
                )
            self.edges.append((start_key, end_key))
            return self
        sources = tuple(start_key)
        if not sources:
            raise GraphBuildError("add_edge() got an empty list of start nodes.")
        for s in sources:
            if s == END:
                raise GraphBuildError("END cannot be the start of an edge.")
        if end_key == START:
            raise GraphBuildError("START cannot be the end of an edge.")
        self.joins.append((sources, end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: Mapping[Hashable, str] | Sequence[str] | None = None,
        then: str | None = None,
    ) -> StateGraph:
        """After ``source``, call ``path(state)`` to choose the next nodes.

        ``path`` returns a node name, a list of names, ``END``, or ``Send``
        objects; with ``path_map`` its results are looked up there first.

        Raises:
            GraphBuildError: ``source`` is END, or ``then`` is given (not supported).
        """
        if then is not None:
            raise GraphBuildError(
                "add_conditional_edges(then=...) is not supported; add an edge instead."
            )
        if source == END:
            raise GraphBuildError("END cannot have conditional edges: nothing runs after END.")
        mapping: dict[Hashable, str] | None
        if path_map is None:
            mapping = None
        elif isinstance(path_map, Mapping):
            mapping = dict(path_map)
        else:
            mapping = {name: name for name in path_map}
        fn = path.invoke if (not callable(path) and hasattr(path, "invoke")) else path
        name = _name_of(fn)
        ends = tuple(mapping.values()) if mapping is not None else _literal_returns(fn)
        if any(b.name == name for b in self.branches.get(source, ())):
            raise GraphBuildError(
                f"Node {source!r} already has a conditional edge named {name!r}; use another function."
            )
        self.branches.setdefault(source, []).append(
            Branch(
                source=source,
                path=fn,
                path_map=mapping,
                is_async=_is_async(fn),
                kwargs=_injectable_kwargs(fn),
                ends=ends,
                name=name,
            )
        )
        return self

    def set_entry_point(self, key: str) -> StateGraph:
        """Same as ``add_edge(START, key)``."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self,
        path: Callable[..., Any],
        path_map: Mapping[Hashable, str] | Sequence[str] | None = None,
    ) -> StateGraph:
        """Same as ``add_conditional_edges(START, path, path_map)``."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph:
        """Same as ``add_edge(key, END)``."""
        return self.add_edge(key, END)

    # -- compile -------------------------------------------------------------

    def validate(self) -> GraphSpec:
        """Check the graph and freeze it into a :class:`GraphSpec`.

        Raises:
            GraphBuildError: The message names the edge or node that is wrong.
        """
        known = set(self.nodes)
        for source, target in self.edges:
            if source != START and source not in known:
                raise GraphBuildError(
                    f"Edge {source!r} -> {target!r} starts at unknown node {source!r}. "
                    f"Add it with add_node() first; known nodes: {_names(known)}."
                )
            if target != END and target not in known:
                raise GraphBuildError(
                    f"Edge {source!r} -> {target!r} ends at unknown node {target!r}. "
                    f"Add it with add_node() first; known nodes: {_names(known)}."
                )
        for sources, target in self.joins:
            for s in sources:
                if s != START and s not in known:
                    raise GraphBuildError(
                        f"Edge {list(sources)!r} -> {target!r} starts at unknown node {s!r}; "
                        f"known nodes: {_names(known)}."
                    )
            if target != END and target not in known:
                raise GraphBuildError(
                    f"Edge {list(sources)!r} -> {target!r} ends at unknown node {target!r}; "
                    f"known nodes: {_names(known)}."
                )
        for source, branches in self.branches.items():
            if source != START and source not in known:
                raise GraphBuildError(
                    f"Conditional edge {branches[0].name!r} starts at unknown node {source!r}; "
                    f"known nodes: {_names(known)}."
                )
            for b in branches:
                for target in b.path_map.values() if b.path_map else ():
                    if target != END and target not in known:
                        raise GraphBuildError(
                            f"Conditional edge {b.name!r} from {source!r} maps to unknown node "
                            f"{target!r}; known nodes: {_names(known)}."
                        )
        for node in self.nodes.values():
            for target in node.ends or ():
                if target != END and target not in known:
                    raise GraphBuildError(
                        f"Node {node.name!r} declares destination {target!r}, which is not a node; "
                        f"known nodes: {_names(known)}."
                    )
        has_entry = (
            any(s == START for s, _ in self.edges)
            or START in self.branches
            or any(START in sources for sources, _ in self.joins)
        )
        if not has_entry:
            raise GraphBuildError(
                "The graph has no entry point. Add an edge from START to the first node, "
                "e.g. builder.add_edge(START, 'first_node')."
            )
        self._check_reachable()
        self._check_return_keys()

        channels: dict[str, Any] = {}
        for schema in (self.schema, self._input, self._output, *self._extra_schemas):
            for key, channel in schema.channels.items():
                channels.setdefault(key, channel)
        edges: dict[str, list[str]] = {}
        for source, target in self.edges:
            targets = edges.setdefault(source, [])
            if target not in targets:
                targets.append(target)
        joins_by_source: dict[str, list[int]] = {}
        for i, (sources, _target) in enumerate(self.joins):
            for s in sources:
                joins_by_source.setdefault(s, []).append(i)
        return GraphSpec(
            name="LangGraph",
            state=self.schema,
            input=self._input,
            output=self._output,
            channels=channels,
            nodes=dict(self.nodes),
            edges={k: tuple(v) for k, v in edges.items()},
            joins=tuple(self.joins),
            branches={k: tuple(v) for k, v in self.branches.items()},
            joins_by_source={k: tuple(v) for k, v in joins_by_source.items()},
            node_order={name: i for i, name in enumerate(self.nodes)},
            pull_refs={name: TaskRef(name) for name in self.nodes},
            successors={k: tuple(t for t in v if t != END) for k, v in edges.items()},
            deferred=frozenset(name for name, node in self.nodes.items() if node.defer),
        )

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Sequence[str] | Literal["*"] | None = None,
        interrupt_after: Sequence[str] | Literal["*"] | None = None,
        debug: bool = False,
        name: str | None = None,
    ) -> CompiledStateGraph:
        """Validate the graph and return a runnable :class:`CompiledStateGraph`.

        Args:
            checkpointer: A saver (e.g. ``InMemorySaver()``) to persist each
                step; needed for interrupts, ``get_state`` and resuming.
            interrupt_before: Nodes to pause before (``"*"`` for all).
            interrupt_after: Nodes to pause after (``"*"`` for all).
            name: The graph's name (stored in checkpoint metadata).

        Raises:
            GraphBuildError: The graph is invalid, or a breakpoint names no node.
        """
        from pausegraph.graph._compiled import CompiledStateGraph

        spec = self.validate()
        if name is not None:
            spec = _renamed(spec, name)
        for label, names in (
            ("interrupt_before", interrupt_before),
            ("interrupt_after", interrupt_after),
        ):
            if names is None or names == "*":
                continue
            for n in names:
                if n not in self.nodes:
                    raise GraphBuildError(
                        f"{label} names {n!r}, which is not a node; known nodes: {_names(self.nodes)}."
                    )
        self.compiled = True
        return CompiledStateGraph(
            spec,
            checkpointer=checkpointer,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            builder=self,
            store=store,
            cache=cache,
        )

    # -- checks --------------------------------------------------------------

    def _check_reachable(self) -> None:
        successors: dict[str, set[str]] = {}
        dynamic = False
        for source, target in self.edges:
            successors.setdefault(source, set()).add(target)
        for sources, target in self.joins:
            for s in sources:
                successors.setdefault(s, set()).add(target)
        for source, branches in self.branches.items():
            for b in branches:
                if b.ends is None:
                    dynamic = True
                successors.setdefault(source, set()).update(b.ends or ())
        for node in self.nodes.values():
            if node.ends is None:
                if _may_route(node.fn):
                    dynamic = True
            else:
                successors.setdefault(node.name, set()).update(node.ends)
        if dynamic:
            return
        seen = {START}
        todo = [START]
        while todo:
            for nxt in successors.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        unreachable = [n for n in self.nodes if n not in seen]
        if unreachable:
            import warnings

            from pausegraph.errors import UnreachableNodeWarning

            warnings.warn(
                f"Node {unreachable[0]!r} is not reachable from START: no edge, conditional edge "
                "or declared Command destination leads to it, so only a caller's "
                "Command(goto=...) can run it. Add an edge to it, or remove it.",
                UnreachableNodeWarning,
                stacklevel=4,
            )

    def _check_return_keys(self) -> None:
        known = set(self.schema.keys)
        for schema in (self._input, self._output, *self._extra_schemas):
            known.update(schema.keys)
        if self.schema.kind == "dict":
            return
        for node in self.nodes.values():
            hints = _safe_hints(node.fn)
            ret = hints.get("return")
            if ret is None or not is_typeddict(ret):
                continue
            for key in _safe_hints(ret):
                if key not in known:
                    raise GraphBuildError(
                        f"Node {node.name!r} returns {ret.__name__}, whose key {key!r} is not in the "
                        f"state schema {self.schema.cls.__name__}. Add {key!r} to the state, or stop "
                        "writing it."
                    )


def _renamed(spec: GraphSpec, name: str) -> GraphSpec:
    import dataclasses

    return dataclasses.replace(spec, name=name)


def _names(names: Any) -> str:
    return ", ".join(sorted(repr(n) for n in names)) or "(none)"


def _name_of(fn: Any) -> str:
    name = getattr(fn, "__name__", None) or getattr(fn, "name", None)
    if name is None and hasattr(fn, "func"):
        name = getattr(fn.func, "__name__", None)
    if not isinstance(name, str):
        name = type(fn).__name__
    return name


def _callable_of(
    node: str, action: Any, parent_keys: frozenset[str] | None = None
) -> tuple[Callable[..., Any], Any]:
    from pausegraph.graph._compiled import CompiledStateGraph

    if isinstance(action, CompiledStateGraph):
        return action._as_node(parent_keys), action
    if callable(action):
        return action, None
    if hasattr(action, "invoke"):
        return action.invoke, None
    raise GraphBuildError(
        f"Node {node!r} got {type(action).__name__}, which is not callable. "
        "Pass a function that takes the state and returns an update."
    )


def _is_async(fn: Any) -> bool:
    import inspect

    target = getattr(fn, "func", fn)
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(type(target), "__call__", None)  # noqa: B004 - callable() is not enough here
    return call is not None and not inspect.isfunction(target) and inspect.iscoroutinefunction(call)


def _signature(fn: Any) -> Any:
    import inspect

    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _injectable_kwargs(fn: Any) -> frozenset[str]:
    sig = _signature(fn)
    if sig is None:
        return frozenset()
    return frozenset(
        name
        for name, p in sig.parameters.items()
        if name in _INJECTABLE and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


def _safe_hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except Exception:
        return {}


def _first_param_schema(fn: Any, state_cls: Any) -> Any:
    sig = _signature(fn)
    if sig is None or not sig.parameters:
        return None
    first = next(iter(sig.parameters.values()))
    hint = _safe_hints(fn).get(first.name)
    if hint is None or hint is state_cls:
        return None
    if is_typeddict(hint) or _is_schema_class(hint):
        return hint
    return None


def _is_schema_class(cls: Any) -> bool:
    import dataclasses

    if not isinstance(cls, type):
        return False
    return dataclasses.is_dataclass(cls) or hasattr(cls, "model_fields")


def _literal_returns(fn: Any) -> tuple[str, ...] | None:
    ret = _safe_hints(fn).get("return")
    if ret is not None and get_origin(ret) is Literal:
        return tuple(str(a) for a in get_args(ret))
    return None


def _command_ends(fn: Any) -> tuple[str, ...] | None:
    ret = _safe_hints(fn).get("return")
    if ret is None:
        return None
    args = get_args(ret)
    if getattr(get_origin(ret), "__name__", None) == "Command" and args:
        inner = args[0]
        if get_origin(inner) is Literal:
            return tuple(str(a) for a in get_args(inner))
    return None


def _may_route(fn: Any) -> bool:
    """Whether ``fn`` may return a ``Command`` (it names ``Command`` anywhere in its code)."""
    code = getattr(getattr(fn, "func", fn), "__code__", None)
    if code is None:
        return True
    todo = [code]
    while todo:
        c = todo.pop()
        if "Command" in c.co_names:
            return True
        todo.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return False
