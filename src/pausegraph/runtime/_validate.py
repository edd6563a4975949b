"""Typed answers: check a resume value against an interrupt's ``response_schema``.

Schemas are stored as JSON Schema (so a paused thread can be validated by any
process, without the class), and checked by the small validator below, which
covers the keywords people use for answers: ``type``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``enum``, ``const``,
``minimum``/``maximum``, ``minLength``/``maxLength``, ``anyOf``, and local ``$ref``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pausegraph._typeddict import is_typeddict

__all__ = ["annotation_schema", "coerce_answer", "schema_to_json", "validate_answer"]

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list, tuple),
    "null": (type(None),),
}


def schema_to_json(schema: Any) -> dict[str, Any]:
    """The JSON Schema of a pydantic model, a ``TypedDict`` or a JSON Schema dict.

    Raises:
        TypeError: ``schema`` is none of these.
    """
    if isinstance(schema, Mapping):
        return dict(schema)
    if hasattr(schema, "model_json_schema"):
        result: dict[str, Any] = schema.model_json_schema()
        return result
    if isinstance(schema, type) and is_typeddict(schema):
        return annotation_schema(schema)
    raise TypeError(
        f"response_schema must be a pydantic model, a TypedDict or a JSON Schema dict, "
        f"not {schema!r}."
    )


_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    None: "null",
}


def annotation_schema(hint: Any) -> dict[str, Any]:
    """JSON Schema for a type annotation (TypedDicts, containers, ``Literal``, unions)."""
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if isinstance(hint, type) and is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        required = sorted(getattr(hint, "__required_keys__", hints))
        return {
            "type": "object",
            "properties": {k: annotation_schema(v) for k, v in hints.items()},
            "required": required,
        }
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        return {"anyOf": [annotation_schema(a) for a in args]}
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple, set, frozenset):
        item = args[0] if args else Any
        return {"type": "array", "items": annotation_schema(item)}
    if origin is dict or hint is dict:
        return {"type": "object"}
    if typing.get_origin(hint) is typing.Annotated:
        return annotation_schema(args[0])
    return {}


def validate_answer(answer: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every way ``answer`` breaks ``schema``, as readable strings (empty when it fits)."""
    problems: list[str] = []
    _check(answer, schema, "answer", problems, schema)
    return problems


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}


def _check(
    value: Any, schema: Mapping[str, Any], where: str, out: list[str], root: Mapping[str, Any]
) -> None:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        options = [_resolve(opt, root) for opt in schema["anyOf"]]
        if any(not validate_answer_in(value, opt, root) for opt in options):
            return
        out.extend(_closest_problems(value, options, where, root))
        return
    expected = schema.get("type")
    if expected is not None:
        kinds = expected if isinstance(expected, list) else [expected]
        ok = any(
            isinstance(value, _PY_TYPES.get(k, ()))
            and not (k in ("integer", "number") and isinstance(value, bool))
            for k in kinds
        )
        if not ok:
            out.append(
                f"{where}: expected {' or '.join(kinds)}, got {type(value).__name__} {value!r}"
            )
            return
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {schema['enum']!r}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: must be {schema['const']!r}, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{where}: {value!r} is less than the minimum {schema['minimum']!r}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{where}: {value!r} is more than the maximum {schema['maximum']!r}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append(f"{where}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{where}: longer than {schema['maxLength']} characters")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                out.append(f"{where}.{key}: required field is missing")
        for key, item in value.items():
            if key in props:
                _check(item, props[key], f"{where}.{key}", out, root)
            elif schema.get("additionalProperties") is False:
                out.append(f"{where}.{key}: unexpected field")
    if isinstance(value, list | tuple) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            _check(item, schema["items"], f"{where}[{i}]", out, root)


def _discriminator(options: list[Mapping[str, Any]]) -> str | None:
    """A property every option pins with ``const`` (like an answer's ``type``), if any."""
    common: set[str] | None = None
    for opt in options:
        pinned = {
            k
            for k, v in opt.get("properties", {}).items()
            if isinstance(v, Mapping) and "const" in v
        }
        common = pinned if common is None else common & pinned
    return sorted(common)[0] if common else None


def _closest_problems(
    value: Any, options: list[Mapping[str, Any]], where: str, root: Mapping[str, Any]
) -> list[str]:
    """Why ``value`` fits no option: by the options' shared tag when they have one."""
    tag = _discriminator(options)
    if tag is not None and isinstance(value, dict):
        allowed = [opt["properties"][tag]["const"] for opt in options]
        chosen = value.get(tag)
        for opt in options:
            if opt["properties"][tag]["const"] == chosen:
                return validate_answer_in(value, opt, root) and [
                    p.replace("answer", where, 1) for p in validate_answer_in(value, opt, root)
                ]
        return [f"{where}.{tag}: {chosen!r} is not one of {allowed!r}"]
    return [f"{where}: {value!r} matches none of the allowed forms"]


def validate_answer_in(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[str]:
    """Problems of ``value`` against a sub-schema of ``root``."""
    out: list[str] = []
    _check(value, schema, "answer", out, root)
    return out


def coerce_answer(answer: Any, schema: Any) -> Any:
    """The answer as ``interrupt()`` returns it: a model instance for a pydantic schema."""
    if hasattr(schema, "model_validate") and isinstance(answer, Mapping):
        return schema.model_validate(answer)
    return answer
