"""What a graph says about its schemas and name; expected values are LangGraph 1.2.22's."""

from __future__ import annotations

import dataclasses
import operator
from typing import Annotated, Any, Optional, TypedDict

import pydantic
import pytest

from pausegraph.graph import START, StateGraph


class In(TypedDict):
    q: str


class Out(TypedDict):
    answer: str


class S(TypedDict, total=False):
    q: str
    answer: str
    log: Annotated[list[str], operator.add]
    n: Optional[int]  # noqa: UP045 (the annotation LangGraph users write)


def compiled(state: Any, **kwargs: Any) -> Any:
    builder = StateGraph(state, **kwargs)
    builder.add_node("n", lambda s: {})
    builder.add_edge(START, "n")
    return builder


S_SCHEMA = {
    "properties": {
        "q": {"title": "Q", "type": "string"},
        "answer": {"title": "Answer", "type": "string"},
        "log": {"items": {"type": "string"}, "title": "Log", "type": "array"},
        "n": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "N"},
    },
    "title": "S",
    "type": "object",
}


def test_the_state_is_input_and_output_by_default() -> None:
    graph = compiled(S).compile()
    assert graph.get_input_jsonschema() == S_SCHEMA  # reducers left out, no required keys
    assert graph.get_output_jsonschema() == S_SCHEMA


def test_input_and_output_schemas_are_their_own() -> None:
    builder = compiled(S, input_schema=In, output_schema=Out)
    graph = builder.compile()
    assert graph.get_input_jsonschema() == {
        "properties": {"q": {"title": "Q", "type": "string"}},
        "required": ["q"],
        "title": "In",
        "type": "object",
    }
    assert graph.get_output_jsonschema() == {
        "properties": {"answer": {"title": "Answer", "type": "string"}},
        "required": ["answer"],
        "title": "Out",
        "type": "object",
    }
    assert (builder.state_schema, builder.input_schema, builder.output_schema) == (S, In, Out)
    plain = compiled(S)
    assert (plain.state_schema, plain.input_schema, plain.output_schema) == (S, S, S)


@dataclasses.dataclass
class D:
    name: str
    count: int = 0
    tags: Annotated[list[str], operator.add] = dataclasses.field(default_factory=list)
    maybe: Optional[str] = None  # noqa: UP045
    where: Any = dataclasses.field(default_factory=object)  # not JSON: no default shown


def test_a_dataclass_state_shows_its_defaults() -> None:
    schema = compiled(D).compile().get_input_jsonschema()
    assert schema["required"] == ["name"]
    assert schema["properties"] == {
        "name": {"title": "Name", "type": "string"},
        "count": {"default": 0, "title": "Count", "type": "integer"},
        "tags": {"default": [], "items": {"type": "string"}, "title": "Tags", "type": "array"},
        "maybe": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "title": "Maybe",
        },
        "where": {"title": "Where"},
    }


class P(pydantic.BaseModel):
    topic: str
    score: float = 0.5


def test_a_pydantic_state_is_described_by_pydantic() -> None:
    assert compiled(P).compile().get_input_jsonschema() == P.model_json_schema()


@pytest.mark.parametrize(
    ("graph_name", "suffix", "name", "expected"),
    [
        (None, None, None, "LangGraph"),
        (None, "input", None, "LangGraphInput"),
        (None, "Output", "agent", "agent_output"),
        (None, None, "x", "x"),
        ("Planner", "input", None, "PlannerInput"),
    ],
)
def test_get_name(
    graph_name: str | None, suffix: str | None, name: str | None, expected: str
) -> None:
    builder = compiled(S)
    graph = builder.compile(name=graph_name) if graph_name else builder.compile()
    assert graph.get_name(suffix, name=name) == expected
