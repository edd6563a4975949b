"""The safe serializer: exact round trips, explicit registry, hostile bytes refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import ormsgpack
import pytest

from pausegraph.checkpoint.serde import MsgpackSerializer
from pausegraph.errors import CorruptCheckpointError, SerializationError


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: int


ROUND_TRIPS: list[Any] = [
    None,
    True,
    0,
    -(2**70),
    2**80,
    1.5,
    "text",
    b"\x00\xff",
    [1, [2, 3]],
    (1, (2, "a")),
    {"a": {"b": [1, 2]}},
    {1: "int key", (1, 2): "tuple key"},
    {1, 2, 3},
    frozenset({"a", "b"}),
    dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
    dt.datetime(2026, 1, 2, 3, 4, 5),
    dt.date(2026, 1, 2),
    dt.time(3, 4, 5),
    dt.timedelta(days=2, seconds=3, microseconds=4),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Decimal("1.10"),
]


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=lambda v: type(v).__name__)
def test_builtin_values_round_trip_exactly(value: Any) -> None:
    serde = MsgpackSerializer()
    loaded = serde.loads(serde.dumps(value))
    assert loaded == value
    assert type(loaded) is type(value)


def test_registered_types_round_trip() -> None:
    serde = MsgpackSerializer()
    serde.register(Point)
    serde.register(Color)
    value = {"p": Point(1, 2), "c": Color.BLUE, "ps": (Point(3, 4),)}
    assert serde.loads(serde.dumps(value)) == value


@dataclasses.dataclass
class Inner:
    color: Color


@dataclasses.dataclass
class Outer:
    inner: list[Inner]


def test_registry_follows_annotations() -> None:
    serde = MsgpackSerializer()
    serde.registry.register_annotation(dict[str, Outer])
    value = Outer([Inner(Color.RED)])
    assert serde.loads(serde.dumps(value)) == value


def test_unregistered_type_is_refused_with_a_fix() -> None:
    serde = MsgpackSerializer()
    with pytest.raises(SerializationError) as info:
        serde.dumps({"p": Point(1, 2)})
    message = str(info.value)
    assert "Point" in message and "register" in message


def test_object_is_not_storable() -> None:
    with pytest.raises(SerializationError, match="object"):
        MsgpackSerializer().dumps(object())


def test_loading_never_builds_unregistered_types() -> None:
    writer = MsgpackSerializer()
    writer.register(Point)
    data = writer.dumps(Point(1, 2))
    with pytest.raises(CorruptCheckpointError) as info:
        MsgpackSerializer().loads(data)
    assert "not registered" in str(info.value)


def test_hostile_payload_names_a_module_but_runs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import sys

    called: list[str] = []
    monkeypatch.setattr(os, "system", lambda command: called.append(command))
    # Object extensions naming os.system, and a module nobody imported: loading
    # must refuse them without importing or calling anything.
    hostile = [["os.system", {"command": "echo pwned"}], ["antigravity.fly", {}]]
    for payload in hostile:
        data = ormsgpack.packb(ormsgpack.Ext(10, ormsgpack.packb(payload)))
        with pytest.raises(CorruptCheckpointError, match="not registered"):
            MsgpackSerializer().loads(data)
    assert called == []
    assert "antigravity" not in sys.modules


@pytest.mark.parametrize(
    "data", [b"\xc1", b"\xd4\x63\x00", b"\x92\x01"], ids=["bad", "ext", "short"]
)
def test_garbage_bytes_raise_corrupt_checkpoint_error(data: bytes) -> None:
    with pytest.raises(CorruptCheckpointError):
        MsgpackSerializer().loads(data)


def test_str_subclass_stores_as_str() -> None:
    class Name(str):
        pass

    serde = MsgpackSerializer()
    loaded = serde.loads(serde.dumps(Name("ada")))
    assert loaded == "ada" and type(loaded) is str
