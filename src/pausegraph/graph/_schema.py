"""State schemas: what keys a state has, how each folds writes, and how nodes see it.

A schema is a ``TypedDict``, a dataclass or a pydantic model. Nodes of a
``TypedDict`` graph receive a plain ``dict``; nodes of a dataclass or pydantic
graph receive an instance of the class.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any, Literal, get_type_hints

from pausegraph._typeddict import is_typeddict
from pausegraph.channels import MISSING, Channel, channel_for
from pausegraph.errors import GraphBuildError, InvalidUpdateError

__all__ = ["Schema", "SchemaKind"]

SchemaKind = Literal["typeddict", "dataclass", "pydantic", "dict"]


def _is_pydantic(cls: Any) -> bool:
    if "pydantic" not in sys.modules or not isinstance(cls, type):
        return False
    from pydantic import BaseModel

    return issubclass(cls, BaseModel)


def _is_typeddict(cls: Any) -> bool:
    return isinstance(cls, type) and is_typeddict(cls)


class Schema:
    """An introspected state schema.

    Attributes:
        cls: The user's class.
        kind: ``typeddict``, ``dataclass``, ``pydantic`` or ``dict`` (a bare ``dict``).
        annotations: Key name to its (``Annotated``-preserving) type hint.
        channels: Key name to the channel that folds its writes.
    """

    __slots__ = ("annotations", "channels", "cls", "keys", "kind")

    def __init__(self, cls: Any) -> None:
        self.cls = cls
        if _is_typeddict(cls):
            self.kind: SchemaKind = "typeddict"
            hints = _hints(cls)
        elif dataclasses.is_dataclass(cls) and isinstance(cls, type):
            self.kind = "dataclass"
            hints = _hints(cls)
            names = {f.name for f in dataclasses.fields(cls)}
            hints = {k: v for k, v in hints.items() if k in names}
        elif _is_pydantic(cls):
            self.kind = "pydantic"
            all_hints = _hints(cls)
            hints = {k: all_hints.get(k, Any) for k in cls.model_fields}
        elif cls is dict or cls is Any:
            self.kind = "dict"
            hints = {}
        else:
            raise GraphBuildError(
                f"State schema {cls!r} is not a TypedDict, a dataclass or a pydantic model. "
                "Declare the state as one of these, e.g. `class State(TypedDict): messages: list`."
            )
        self.annotations: dict[str, Any] = hints
        self.channels: dict[str, Channel] = {k: channel_for(k, v) for k, v in hints.items()}
        self.keys: tuple[str, ...] = tuple(hints)

    def __repr__(self) -> str:
        return f"Schema({getattr(self.cls, '__name__', self.cls)!s})"

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of these values, shaped as pydantic (and so LangGraph) writes it.

        Reducers are left out (``Annotated[list[str], add]`` is an array of
        strings); ``required`` lists the keys a value must have.
        """
        if self.kind == "pydantic":
            return dict(self.cls.model_json_schema())
        from pausegraph.runtime._validate import annotation_schema

        out: dict[str, Any] = {"title": getattr(self.cls, "__name__", "State"), "type": "object"}
        if self.kind == "dict":
            return out
        out["properties"] = {
            key: {"title": key.title().replace("_", " "), **annotation_schema(hint)}
            for key, hint in self.annotations.items()
        }
        if self.kind == "typeddict":
            needed = getattr(self.cls, "__required_keys__", frozenset(self.keys))
        else:  # a dataclass: the fields without a default; the others show it
            needed = set()
            for f in dataclasses.fields(self.cls):
                if f.default is not dataclasses.MISSING:
                    default = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    default = f.default_factory()
                else:
                    needed.add(f.name)
                    continue
                if f.name in out["properties"] and _is_json(default):
                    out["properties"][f.name]["default"] = default
        required = [key for key in self.keys if key in needed]
        if required:
            out["required"] = required
        return out

    def view(self, values: Mapping[str, Any]) -> Any:
        """What a node declared with this schema receives, built from the state ``values``."""
        if self.kind == "typeddict":  # every node call: a loop costs less than a comprehension
            out = {}
            for k in self.keys:
                if k in values:
                    out[k] = values[k]
            return out
        if self.kind == "dict":
            return dict(values)
        data = {k: values[k] for k in self.keys if k in values and values[k] is not MISSING}
        try:
            return self.cls(**data)
        except (TypeError, ValueError) as exc:
            raise InvalidUpdateError(
                f"Cannot build {self.cls.__name__} from the state {sorted(data)}: {exc}. "
                "Give the missing fields a default value, or include them in the input."
            ) from exc

    def updates_from(self, obj: Any) -> dict[str, Any] | None:
        """The keys of an instance of this schema returned by a node, as an update."""
        if self.kind == "dataclass" and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        if self.kind == "pydantic" and _is_pydantic(type(obj)):
            # As LangGraph: a field left at None without being set is no update, so
            # returning a partly filled model does not wipe the other keys.
            given = obj.model_fields_set
            return {
                k: value
                for k in type(obj).model_fields
                if (value := getattr(obj, k)) is not None or k in given
            }
        return None

    def validate_input(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``data`` against the schema (pydantic models validate and coerce)."""
        if self.kind == "pydantic":
            try:
                model = self.cls.model_validate(dict(data))
            except Exception as exc:
                raise InvalidUpdateError(f"Input does not fit {self.cls.__name__}: {exc}") from exc
            return {k: getattr(model, k) for k in data if k in self.cls.model_fields}
        return dict(data)

    def defaults(self) -> dict[str, Any]:
        """Field defaults of a dataclass or pydantic schema (empty for a TypedDict)."""
        out: dict[str, Any] = {}
        if self.kind == "dataclass":
            for f in dataclasses.fields(self.cls):
                if f.default is not dataclasses.MISSING:
                    out[f.name] = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    out[f.name] = f.default_factory()
        elif self.kind == "pydantic":
            for name, info in self.cls.model_fields.items():
                if not info.is_required():
                    out[name] = info.get_default(call_default_factory=True)
        return out


def _hints(cls: Any) -> dict[str, Any]:
    try:
        return get_type_hints(cls, include_extras=True)
    except NameError as exc:
        raise GraphBuildError(
            f"Cannot resolve the type hints of {cls.__name__}: {exc}. "
            "Define every type the schema names before building the graph."
        ) from exc


def _is_json(value: Any) -> bool:
    """Whether ``value`` is plain JSON data (what a schema's ``default`` may show)."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False
