"""Safe serialization: msgpack with an explicit type registry, never pickle.

Stored bytes never choose which code runs. Built-in containers and scalars,
``datetime``/``date``/``time``/``timedelta``, ``UUID``, ``Decimal``, tuples,
sets and frozensets round-trip exactly. Any other class (a dataclass, a
pydantic model, an enum, a LangChain message) must be registered by name; the
loader builds it only through the registered class and never imports a module
named in the data. Graphs register their state schema's types automatically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import threading
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol, get_args, get_type_hints, runtime_checkable

import ormsgpack

from pausegraph.errors import CorruptCheckpointError, SerializationError

__all__ = ["MsgpackSerializer", "Serializer", "TypeRegistry"]

_PACK_OPTIONS = (
    ormsgpack.OPT_NON_STR_KEYS
    | ormsgpack.OPT_PASSTHROUGH_TUPLE
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_SUBCLASS
    | ormsgpack.OPT_PASSTHROUGH_BIG_INT
)
_UNPACK_OPTIONS = ormsgpack.OPT_NON_STR_KEYS

# Extension type codes. Never renumber: they are part of the stored format.
_TUPLE, _SET, _FROZENSET, _DATETIME, _DATE, _TIME, _TIMEDELTA = 1, 2, 3, 4, 5, 6, 7
_UUID, _DECIMAL, _OBJECT, _ENUM, _BIGINT = 8, 9, 10, 11, 12


@runtime_checkable
class Serializer(Protocol):
    """Turns values into bytes and back. Implementations must be safe to load."""

    def dumps(self, value: Any) -> bytes:
        """Encode ``value``; raise :class:`SerializationError` naming what cannot be stored."""
        ...

    def loads(self, data: bytes) -> Any:
        """Decode ``data``; raise :class:`CorruptCheckpointError` on foreign or damaged bytes."""
        ...


class TypeRegistry:
    """The classes a serializer may build when loading, by registered name.

    Names default to ``module.QualName``. Registering is explicit: a class is
    never looked up by importing the name found in stored data.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, type] = {}
        self._by_type: dict[type, str] = {}

    def register(self, cls: type, name: str | None = None) -> type:
        """Allow ``cls`` to be stored and loaded; usable as a class decorator."""
        key = name or f"{cls.__module__}.{cls.__qualname__}"
        self._by_name[key] = cls
        self._by_type[cls] = key
        return cls

    def register_annotation(self, annotation: Any) -> None:
        """Register every class reachable from a type annotation (fields included)."""
        seen: set[int] = set()
        todo = [annotation]
        while todo:
            item = todo.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            todo.extend(get_args(item))
            if not isinstance(item, type) or item.__module__ == "builtins":
                continue
            if _is_registrable(item):
                if item not in self._by_type:
                    self.register(item)
                # Unresolved forward refs: those fields stay unregistered.
                with contextlib.suppress(Exception):
                    todo.extend(get_type_hints(item).values())

    def name_of(self, cls: type) -> str | None:
        """The registered name of ``cls``, or ``None``."""
        return self._by_type.get(cls)

    def lookup(self, name: str) -> type | None:
        """The class registered as ``name``, or ``None``."""
        return self._by_name.get(name)

    def update(self, other: TypeRegistry) -> None:
        """Add every registration of ``other``."""
        for name, cls in other._by_name.items():
            self._by_name.setdefault(name, cls)
            self._by_type.setdefault(cls, name)


def _is_registrable(cls: type) -> bool:
    return (
        dataclasses.is_dataclass(cls)
        or issubclass(cls, enum.Enum)
        or hasattr(cls, "model_fields")
        or _is_langchain_message(cls)
    )


def _is_langchain_message(cls: type) -> bool:
    return cls.__module__.startswith("langchain_core.messages")


class MsgpackSerializer:
    """The default :class:`Serializer`: ormsgpack plus an explicit :class:`TypeRegistry`."""

    def __init__(self, registry: TypeRegistry | None = None) -> None:
        self.registry = registry or TypeRegistry()
        self._default = self._encode_other
        self._ext_hook = self._decode_ext
        # ormsgpack drops the exceptions its hooks raise; keep ours to re-raise them.
        self._failure = threading.local()

    def register(self, cls: type, name: str | None = None) -> type:
        """Shortcut for ``self.registry.register``."""
        return self.registry.register(cls, name)

    def _fail(self, error: Exception) -> Exception:
        if getattr(self._failure, "error", None) is None:
            self._failure.error = error
        return error

    def _take_failure(self) -> Exception | None:
        error: Exception | None = getattr(self._failure, "error", None)
        self._failure.error = None
        return error

    def dumps(self, value: Any) -> bytes:
        self._failure.error = None
        try:
            return ormsgpack.packb(value, default=self._default, option=_PACK_OPTIONS)
        except Exception as exc:
            failure = self._take_failure()
            if isinstance(failure, SerializationError):
                raise SerializationError(str(failure)) from None
            raise SerializationError(
                f"Cannot store value: {exc}. Register its type with "
                "`checkpointer.serde.register(TheClass)`."
            ) from exc

    def loads(self, data: bytes) -> Any:
        self._failure.error = None
        try:
            return ormsgpack.unpackb(data, ext_hook=self._ext_hook, option=_UNPACK_OPTIONS)
        except Exception as exc:
            failure = self._take_failure()
            if isinstance(failure, CorruptCheckpointError):
                raise CorruptCheckpointError(str(failure)) from None
            raise CorruptCheckpointError(
                f"Stored bytes are not a pausegraph value ({exc}). The store may be damaged or "
                "written by another program; restore it from a backup or delete the thread."
            ) from exc

    # -- encoding ------------------------------------------------------------

    def _pack(self, value: Any) -> bytes:
        return ormsgpack.packb(value, default=self._default, option=_PACK_OPTIONS)

    def _encode_other(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is tuple:
            return ormsgpack.Ext(_TUPLE, self._pack(list(obj)))
        if cls is set or cls is frozenset:
            code = _SET if cls is set else _FROZENSET
            return ormsgpack.Ext(code, self._pack(_sorted_if_possible(obj)))
        if cls is dt.datetime:
            return ormsgpack.Ext(_DATETIME, obj.isoformat().encode())
        if cls is dt.date:
            return ormsgpack.Ext(_DATE, obj.isoformat().encode())
        if cls is dt.time:
            return ormsgpack.Ext(_TIME, obj.isoformat().encode())
        if cls is dt.timedelta:
            return ormsgpack.Ext(_TIMEDELTA, self._pack([obj.days, obj.seconds, obj.microseconds]))
        if cls is uuid.UUID:
            return ormsgpack.Ext(_UUID, obj.bytes)
        if cls is Decimal:
            return ormsgpack.Ext(_DECIMAL, str(obj).encode())
        if cls is int:
            return ormsgpack.Ext(_BIGINT, str(obj).encode())
        name = self.registry.name_of(cls)
        if name is None and _auto_registrable(cls):
            self.registry.register(cls)
            name = self.registry.name_of(cls)
        if name is not None:
            if isinstance(obj, enum.Enum):
                return ormsgpack.Ext(_ENUM, self._pack([name, obj.value]))
            return ormsgpack.Ext(_OBJECT, self._pack([name, _fields_of(obj)]))
        if isinstance(obj, str):  # plain subclasses store as their base value
            return str(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj)
        raise self._fail(
            SerializationError(
                f"Cannot store a value of type {cls.__module__}.{cls.__qualname__}. Use it in the "
                "state schema's annotations (so the graph registers it), or register it: "
                "`checkpointer.serde.register(" + cls.__qualname__ + ")`."
            )
        )

    # -- decoding ------------------------------------------------------------

    def _unpack(self, data: bytes) -> Any:
        return ormsgpack.unpackb(data, ext_hook=self._ext_hook, option=_UNPACK_OPTIONS)

    def _decode_ext(self, code: int, data: bytes) -> Any:
        if code == _TUPLE:
            return tuple(self._unpack(data))
        if code == _SET:
            return set(self._unpack(data))
        if code == _FROZENSET:
            return frozenset(self._unpack(data))
        if code == _DATETIME:
            return dt.datetime.fromisoformat(data.decode())
        if code == _DATE:
            return dt.date.fromisoformat(data.decode())
        if code == _TIME:
            return dt.time.fromisoformat(data.decode())
        if code == _TIMEDELTA:
            days, seconds, micros = self._unpack(data)
            return dt.timedelta(days=days, seconds=seconds, microseconds=micros)
        if code == _UUID:
            return uuid.UUID(bytes=data)
        if code == _DECIMAL:
            return Decimal(data.decode())
        if code == _BIGINT:
            return int(data.decode())
        if code in (_OBJECT, _ENUM):
            name, payload = self._unpack(data)
            cls = self.registry.lookup(name)
            if cls is None:
                raise self._fail(
                    CorruptCheckpointError(
                        f"Stored data names type {name!r}, which is not registered, so it was not "
                        f"loaded (pausegraph never imports types named in data). Register it: "
                        f"`checkpointer.serde.register(YourClass, {name!r})`."
                    )
                )
            return cls(payload) if code == _ENUM else _build(cls, payload)
        raise self._fail(CorruptCheckpointError(f"Unknown extension type {code} in stored data."))


def _sorted_if_possible(items: Iterable[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return list(items)


def _auto_registrable(cls: type) -> bool:
    # LangChain messages are plain data classes of a known library; allow them by default.
    return _is_langchain_message(cls)


def _fields_of(obj: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if hasattr(obj, "model_dump"):
        fields = type(obj).model_fields
        return {k: getattr(obj, k) for k in fields}
    if hasattr(obj, "__dict__"):
        return dict(vars(obj))
    raise SerializationError(f"Cannot read the fields of {type(obj).__qualname__} to store it.")


def _build(cls: type, payload: Any) -> Any:
    if not isinstance(payload, dict):
        raise CorruptCheckpointError(f"Stored {cls.__qualname__} is not a field mapping.")
    if hasattr(cls, "model_construct") and not _is_langchain_message(cls):
        return cls.model_construct(**payload)
    build: Callable[..., Any] = cls
    return build(**payload)


def default_serializer() -> MsgpackSerializer:
    """A fresh :class:`MsgpackSerializer` (one per saver, so registries do not leak)."""
    return MsgpackSerializer()
