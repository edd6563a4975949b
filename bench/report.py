"""Comparing outcomes against targets, and rendering the table and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench.results import Outcome
from bench.targets import Target

IMPLS = ("langgraph", "pausegraph")
NAMES = {"langgraph": "LangGraph", "pausegraph": "pausegraph"}
HEADERS = ("workload", "LangGraph", "pausegraph", "ratio", "target", "result")
GROWTH_HEADERS = ("stored for one thread", "", "100 steps", "200 steps", "200/100")
GROWTH_NOTE = "bytes the run added to the store; linear growth: 200/100 = 2, quadratic: 4"


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
        if outcome.status == "not_applicable":
            return "n/a"
        if outcome.measurement is None:
            return outcome.status.replace("_", " ")
        return fmt_value(outcome.measurement.value, outcome.measurement.unit)

    def cells(self, mark: str = "") -> tuple[str, ...]:
        """Returns the table row, in :data:`HEADERS` order; ``mark`` follows the LangGraph cell."""
        ratio = "-" if self.ratio is None else f"{self.ratio:.1f}x"
        return (
            self.workload,
            self.cell("langgraph") + mark,
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
    """Formats nanoseconds as ns/µs/ms/s, bytes as B/KB/MB, or a ratio as e.g. ``1.05x``."""
    if unit == "x":
        return f"{value:.3g}x"
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


def aligned(lines: list[tuple[str, ...]]) -> list[str]:
    """Aligns rows of cells (the first one the header): first column left, others right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for line in lines:
        first, *rest = (
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        out.append("  ".join([first, *rest]))
    out.insert(1, "-" * len(out[0]))
    return out


def table(rows: list[Row]) -> str:
    """Renders rows as an aligned plain-text table, with the targets' notes as footnotes."""
    notes = list(dict.fromkeys(row.target.note for row in rows if row.target.note))
    marks = {note: f" [{i}]" for i, note in enumerate(notes, 1)}
    out = aligned([HEADERS, *(row.cells(marks.get(row.target.note, "")) for row in rows)])
    out.extend(f"[{i}] {note}" for i, note in enumerate(notes, 1))
    return "\n".join(out)


def growth_table(rows: list[Row]) -> str:
    """Renders the storage workloads' bytes at 100 and 200 steps; empty if none ran."""
    lines = []
    for row in rows:
        for impl, outcome in row.outcomes.items():
            extra = {} if outcome.measurement is None else outcome.measurement.extra
            if "bytes_200" in extra:
                lines.append(
                    (
                        row.workload,
                        NAMES[impl],
                        fmt_value(extra["bytes_100"], "B"),
                        fmt_value(extra["bytes_200"], "B"),
                        f"{extra['growth']:.2f}",
                    )
                )
    if not lines:
        return ""
    return "\n".join([*aligned([GROWTH_HEADERS, *lines]), f"({GROWTH_NOTE})"])


def failures(rows: list[Row]) -> list[str]:
    """Returns one line per distinct failure or skip reason.

    For example ``pausegraph: import failed: ...``, ``pausegraph: fanout_50: error: ...``
    or ``pausegraph: skipped node_step_redis, interrupt_cycle_redis: Redis unavailable``.
    """
    seen: dict[str, None] = {}
    skipped: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        for impl, outcome in row.outcomes.items():
            if outcome.status == "import_failed":
                seen.setdefault(f"{impl}: import failed: {outcome.message}", None)
            elif outcome.status == "error":
                seen.setdefault(f"{impl}: {row.workload}: error: {outcome.message}", None)
            elif outcome.status == "skipped":
                skipped.setdefault((impl, outcome.message), []).append(row.workload)
    lines = list(seen)
    lines += [
        f"{impl}: skipped {', '.join(names)}: {why}" for (impl, why), names in skipped.items()
    ]
    return lines
