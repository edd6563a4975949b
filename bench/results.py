"""Result types passed from a worker subprocess to the parent as JSON."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "import_failed", "error", "skipped", "not_applicable"]


@dataclass(frozen=True)
class Measurement:
    """A workload's result on one implementation.

    Attributes:
        value: The median of ``samples``, the figure that is compared.
        unit: ``"ns"`` for times, ``"B"`` for bytes, ``"x"`` for a ratio (e.g. bytes
            stored over raw bytes).
        samples: Every sample, each already divided per operation.
        inner: Operations timed together in each sample.
        extra: Secondary figures, reported in the JSON only.
    """

    value: float
    unit: str
    samples: tuple[float, ...] = ()
    inner: int = 1
    extra: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        samples: Sequence[float],
        unit: str = "ns",
        inner: int = 1,
        extra: dict[str, float] | None = None,
    ) -> Measurement:
        """Builds a measurement whose value is the median of ``samples``."""
        return cls(statistics.median(samples), unit, tuple(samples), inner, extra or {})


@dataclass(frozen=True)
class Outcome:
    """How one worker run ended.

    Attributes:
        status: ``"ok"`` when ``measurement`` is set; ``"import_failed"`` when the
            implementation (or part of it) could not be imported; ``"error"`` when
            the workload raised or the worker died; ``"skipped"`` when the workload
            cannot run here (e.g. a missing service); ``"not_applicable"`` when
            LangGraph has nothing comparable (no worker ran).
        message: Why the status is not ``"ok"``.
        measurement: The result, when ``status`` is ``"ok"``.
    """

    status: Status
    message: str = ""
    measurement: Measurement | None = None

    def to_json(self) -> dict[str, Any]:
        """Returns a JSON-serializable dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        """Rebuilds an outcome from :meth:`to_json` output."""
        m = data.get("measurement")
        measurement = None if m is None else Measurement(**{**m, "samples": tuple(m["samples"])})
        return cls(data["status"], data.get("message", ""), measurement)
