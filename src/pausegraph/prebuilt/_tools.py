"""Tools as a ToolNode sees them: a name, an argument schema, a way to call.

Two kinds are accepted: plain Python functions (named by ``__name__``, called
with the arguments as keywords, checked against their signature and type
hints) and LangChain tools (objects with ``.name`` and ``.invoke``, checked
with their own argument model).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from typing_extensions import TypedDict

from pausegraph.errors import GraphBuildError
from pausegraph.prebuilt._messages import ToolCall
from pausegraph.runtime._validate import schema_to_json, validate_answer

__all__ = [
    "FunctionTool",
    "LangChainTool",
    "Tool",
    "as_tool",
    "describe_schema",
    "is_langchain_tool",
]


def is_langchain_tool(obj: Any) -> bool:
    """Whether ``obj`` is a LangChain tool (has a ``name`` and ``invoke``; not a function)."""
    return (
        not inspect.isroutine(obj)
        and isinstance(getattr(obj, "name", None), str)
        and callable(getattr(obj, "invoke", None))
    )


class Tool:
    """A tool as a ToolNode sees it.

    Attributes:
        name: What the model calls it.
        schema: JSON Schema of its arguments.
        is_async: Calling it returns an awaitable.
    """

    name: str
    schema: dict[str, Any]
    is_async: bool

    def problems(self, args: Any) -> list[str]:
        """Every way ``args`` does not fit the tool (empty when it fits)."""
        if not isinstance(args, Mapping):
            return [f"arguments must be an object of named values, got {args!r}"]
        return [_strip(p) for p in validate_answer(dict(args), self.schema)]

    def describe(self) -> str:
        """The expected arguments, for error messages: ``a (integer), b (string, optional)``."""
        return describe_schema(self.schema)

    def call(self, call: ToolCall) -> Any:
        """Run the tool on ``call`` (returns an awaitable when :attr:`is_async`)."""
        raise NotImplementedError


class FunctionTool(Tool):
    """A plain function, checked against its signature and type hints.

    Unknown arguments are refused unless the function takes ``**kwargs``.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        name = getattr(fn, "__name__", None)
        if not isinstance(name, str) or name == "<lambda>":
            raise GraphBuildError(
                f"Tool {fn!r} has no usable name: define it with `def`, or set its "
                "__name__ (the model calls tools by name)."
            )
        self.name = name
        self.fn = fn
        self.schema = _function_schema(fn)
        self.is_async = inspect.iscoroutinefunction(fn)

    def call(self, call: ToolCall) -> Any:
        """Call the function with the arguments as keywords; returns its result."""
        return self.fn(**call["args"])


class LangChainTool(Tool):
    """A LangChain tool: checked with its own argument model, run with ``invoke``."""

    def __init__(self, tool: Any) -> None:
        self.name = tool.name
        self.tool = tool
        self.schema = _langchain_schema(tool)
        self.is_async = getattr(tool, "func", True) is None and (
            getattr(tool, "coroutine", None) is not None
        )

    def problems(self, args: Any) -> list[str]:
        """Every way ``args`` does not fit the tool's argument model."""
        model: Any = getattr(self.tool, "tool_call_schema", None)
        if not hasattr(model, "model_validate"):
            return super().problems(args)
        try:
            model.model_validate(args)
        except Exception as exc:  # pydantic.ValidationError; pydantic is LangChain's dependency
            errors = getattr(exc, "errors", None)
            if not callable(errors):
                return [str(exc)]
            return [
                f"{'.'.join(str(p) for p in e.get('loc', ())) or 'arguments'}: {e.get('msg')}"
                for e in errors()
            ]
        return []

    def call(self, call: ToolCall) -> Any:
        """Run the tool with the whole call, so it answers with a ``ToolMessage``."""
        tool_call = {"type": "tool_call", **call}
        if self.is_async:
            return self.tool.ainvoke(tool_call)
        return self.tool.invoke(tool_call)


def as_tool(obj: Any) -> Tool:
    """Wrap a function or a LangChain tool.

    Raises:
        GraphBuildError: ``obj`` is neither, or a function without a usable name.
    """
    if isinstance(obj, Tool):
        return obj
    if is_langchain_tool(obj):
        return LangChainTool(obj)
    if callable(obj):
        return FunctionTool(obj)
    raise GraphBuildError(
        f"{obj!r} is not a tool: pass plain functions or LangChain tools (objects with "
        ".name and .invoke)."
    )


def describe_schema(schema: Mapping[str, Any]) -> str:
    """``name (type[, optional])`` for each property of an object schema."""
    props: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    if not props:
        return "none"
    parts = []
    for name, prop in props.items():
        kind = _type_name(prop)
        extra = [kind] if kind else []
        if name not in required:
            extra.append("optional")
        parts.append(f"{name} ({', '.join(extra)})" if extra else name)
    return ", ".join(parts)


def _type_name(prop: Mapping[str, Any]) -> str:
    if "enum" in prop:
        return "one of " + "/".join(repr(v) for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(filter(None, (_type_name(p) for p in prop["anyOf"])))
    kind = prop.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind) if kind else ""


def _strip(problem: str) -> str:
    # validate_answer speaks of an "answer" and its "fields"; here they are arguments.
    problem = problem.replace("required field", "required argument").replace(
        "unexpected field", "unexpected argument"
    )
    if problem.startswith("answer."):
        return problem[len("answer.") :]
    return "arguments" + problem[len("answer") :] if problem.startswith("answer") else problem


def _function_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {"type": "object"}
    try:
        hints = typing.get_type_hints(inspect.unwrap(fn))
    except Exception:  # unresolvable forward references: check names, not types
        hints = {}
    fields: dict[str, Any] = {}
    required: list[str] = []
    open_ended = False
    for param in sig.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            open_ended = True
        elif param.kind is not param.VAR_POSITIONAL:
            fields[param.name] = hints.get(param.name, Any)
            if param.default is param.empty:
                required.append(param.name)
    # A TypedDict of the parameters turns the hints into JSON Schema the same way
    # response_schema=TypedDict does, so tool arguments and answers share one checker.
    schema = schema_to_json(TypedDict(f"{fn.__name__}_args", fields, total=False))  # type: ignore[operator]
    schema["required"] = required
    if not open_ended:
        schema["additionalProperties"] = False
    return schema


def _langchain_schema(tool: Any) -> dict[str, Any]:
    model: Any = getattr(tool, "tool_call_schema", None)
    if hasattr(model, "model_json_schema"):
        schema: dict[str, Any] = model.model_json_schema()
    elif isinstance(model, Mapping):
        schema = dict(model)
    else:
        schema = {"type": "object", "properties": dict(getattr(tool, "args", {}) or {})}
    schema.setdefault("type", "object")
    return schema
