"""Comparing outcomes against targets, and rendering the table and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench.results import Outcome
from bench.targets import Target

IMPLS = ("langgraph", "pausegraph")
HEADERS = ("workload", "LangGraph", "pausegraph", "ratio", "target", "result")


@dataclass(frozen=True)
class Row:
    """Both implementations' outcomes on one workload.

    Attributes:
        workload: The workload's name.
        target: Its target.
        outcomes: Outcome per implementation prefix; a missing key means the
            implementation was not run (LangGraph not installed).
    """

    workload: str
    target: Target
    outcomes: dict[str, Outcome]

    def value(self, impl: str) -> float | None:
        """Returns the median for ``impl``, or ``None`` if it has none."""
        outcome = self.outcomes.get(impl)
        if outcome is None or outcome.measurement is None:
            return None
        return outcome.measurement.value

    @property
    def ratio(self) -> float | None:
        """LangGraph median / pausegraph median, when both exist."""
        lg, pg = self.value("langgraph"), self.value("pausegraph")
        return None if lg is None or pg is None or pg <= 0 else lg / pg

    @property
    def verdict(self) -> str:
        """``PASS``, ``FAIL``, ``SKIP``, or ``n/a`` (speedup without LangGraph)."""
        pg = self.outcomes.get("pausegraph")
        if pg is None or pg.status == "skipped":
            return "SKIP"
        value = self.value("pausegraph")
        if value is None:
            return "FAIL"
        if self.target.kind == "max":
            return "PASS" if value < self.target.value else "FAIL"
        ratio = self.ratio
        if ratio is None:
            return "n/a"
        return "PASS" if ratio >= self.target.value else "FAIL"

    def cell(self, impl: str) -> str:
        """Formats ``impl``'s outcome for the table."""
        outcome = self.outcomes.get(impl)
        if outcome is None:
            return "not installed"
        if outcome.measurement is None:
            return outcome.status.replace("_", " ")
        return fmt_value(outcome.measurement.value, outcome.measurement.unit)

    def cells(self) -> tuple[str, ...]:
        """Returns the table row, in :data:`HEADERS` order."""
        ratio = "-" if self.ratio is None else f"{self.ratio:.1f}x"
        return (
            self.workload,
            self.cell("langgraph"),
            self.cell("pausegraph"),
            ratio,
            fmt_target(self.target),
            self.verdict,
        )

    def to_json(self) -> dict[str, Any]:
        """Returns a JSON-serializable dict of this row."""
        return {
            "workload": self.workload,
            "target": asdict(self.target),
            "ratio": self.ratio,
            "verdict": self.verdict,
            **{impl: o.to_json() for impl, o in self.outcomes.items()},
        }


def fmt_value(value: float, unit: str) -> str:
    """Formats nanoseconds as ns/µs/ms/s, or bytes as B/KB/MB."""
    if unit == "B":
        scales: tuple[tuple[float, str], ...] = ((1 << 20, "MB"), (1 << 10, "KB"), (1, "B"))
    else:
        scales = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1, "ns"))
    for scale, name in scales:
        if abs(value) >= scale or scale == 1:
            return f"{value / scale:.1f} {name}" if scale != 1 else f"{value:.0f} {name}"
    raise AssertionError("unreachable")


def fmt_target(target: Target) -> str:
    """Formats a target, e.g. ``>=10x`` or ``<50.0 ms``."""
    if target.kind == "speedup":
        return f">={target.value:g}x"
    return f"<{fmt_value(target.value, target.unit)}"


def table(rows: list[Row]) -> str:
    """Renders rows as an aligned plain-text table."""
    lines = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    out = []
    for line in lines:
        first, *rest = (
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        out.append("  ".join([first, *rest]))
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def failures(rows: list[Row]) -> list[str]:
    """Returns one line per distinct failure, e.g. ``pausegraph: import failed: ...``."""
    seen: dict[str, None] = {}
    for row in rows:
        for impl, outcome in row.outcomes.items():
            if outcome.status == "import_failed":
                seen.setdefault(f"{impl}: import failed: {outcome.message}", None)
            elif outcome.status == "error":
                seen.setdefault(f"{impl}: {row.workload}: error: {outcome.message}", None)
    return list(seen)
