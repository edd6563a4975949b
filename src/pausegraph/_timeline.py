"""A thread's history as a timeline: rows, branch lanes, and a picture of it.

``pausegraph history`` shows what :meth:`saver.history` returns, newest
first, as ``git log --graph`` shows commits: each checkpoint on a lane, a
fork (time travel, or ``update_state`` on an old checkpoint) opening a new
lane beside the one it left. As text for the terminal, or as an SVG picture
(no dependency: the markup is written here).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from xml.sax.saxutils import escape

from pausegraph.checkpoint._records import StoredCheckpoint, created_at_of

__all__ = ["Row", "lay_out", "short", "svg", "text"]


@dataclass(frozen=True, slots=True)
class Row:
    """One checkpoint as the timeline shows it.

    Attributes:
        id: The checkpoint id.
        parent_id: The checkpoint it follows (``None`` for a thread's first).
        step: ``-1`` for a run's input, then one more per step.
        source: ``"input"``, ``"loop"``, ``"update"`` or ``"fork"``.
        created_at: ISO 8601 UTC.
        writers: The nodes whose writes made it.
        next: The nodes the next step runs (empty: the run ended here).
        waiting: ``(node, interrupt id, payload)`` of each question asked at it.
        answered: Whether a later checkpoint follows it (its questions were
            answered, or the thread went on from it another way).
        lane: Its column in the picture (0 for the line the oldest one is on).
    """

    id: str
    parent_id: str | None
    step: int
    source: str
    created_at: str
    writers: tuple[str, ...]
    next: tuple[str, ...]
    waiting: tuple[tuple[str, str, Any], ...]
    answered: bool = False
    lane: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (``--json``)."""
        return {
            "checkpoint_id": self.id,
            "parent_id": self.parent_id,
            "step": self.step,
            "source": self.source,
            "created_at": self.created_at,
            "writers": list(self.writers),
            "next": list(self.next),
            "waiting": [{"node": n, "id": i, "value": v} for n, i, v in self.waiting],
            "answered": self.answered,
        }


def _waiting(stored: StoredCheckpoint) -> tuple[tuple[str, str, Any], ...]:
    """The questions this checkpoint's tasks asked that its own writes do not answer.

    (A resume answers them in the checkpoint that follows; see ``Row.answered``.)
    """
    if not stored.writes:
        return ()
    from pausegraph.runtime._planner import plan  # the run loop's own reading of the writes

    tasks = plan(stored.checkpoint, stored.writes)
    return tuple(
        (task.name, str(record["id"]), record["value"])
        for task in tasks
        if not task.done
        for record in task.interrupts
    )


def lay_out(history: Iterable[StoredCheckpoint]) -> list[Row]:
    """``history`` (newest first) as rows, each on its lane.

    A checkpoint stays on its parent's lane when it is the parent's first
    child; a later child (a fork) opens a new lane, as does a checkpoint
    whose parent is not in ``history`` (pruned, or past ``--limit``).
    """
    newest_first = [
        Row(
            id=cp.id,
            parent_id=cp.parent_id,
            step=cp.step,
            source=cp.source,
            created_at=cp.created_at or created_at_of(cp.id),
            writers=tuple(cp.writers),
            next=tuple(ref.node for ref in cp.frontier),
            waiting=_waiting(stored),
        )
        for stored in history
        for cp in (stored.checkpoint,)
    ]
    lanes: dict[str, int] = {}  # checkpoint id -> its lane
    tips: dict[int, str] = {}  # lane -> the newest checkpoint on it so far
    for row in reversed(newest_first):  # oldest first
        parent_lane = lanes.get(row.parent_id) if row.parent_id is not None else None
        if parent_lane is not None and tips.get(parent_lane) == row.parent_id:
            lane = parent_lane
        else:
            lane = len(tips)
        lanes[row.id] = lane
        tips[lane] = row.id
    followed = {row.parent_id for row in newest_first}
    return [replace(row, lane=lanes[row.id], answered=row.id in followed) for row in newest_first]


def short(value: Any, width: int = 60) -> str:
    """``value`` on one line, cut to ``width`` characters."""
    try:
        text = json.dumps(value, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _describe(row: Row) -> str:
    made = "+".join(row.writers) if row.writers else "-"
    nxt = ", ".join(row.next) if row.next else "(end)"
    return f"step {row.step:>3}  {row.source:<6}  by {made}  -> {nxt}"


def _spans(rows: Sequence[Row]) -> dict[int, tuple[int, int]]:
    """For each lane, the rows (newest, oldest) it is drawn across, its link to its parent included."""
    index = {row.id: i for i, row in enumerate(rows)}
    spans: dict[int, tuple[int, int]] = {}
    for i, row in enumerate(rows):
        first, last = spans.get(row.lane, (i, i))
        last = max(last, i)
        parent = index.get(row.parent_id) if row.parent_id is not None else None
        if parent is not None and rows[parent].lane != row.lane:
            last = max(last, parent)
        spans[row.lane] = (min(first, i), last)
    return spans


def text(rows: Sequence[Row]) -> str:
    """The timeline for a terminal: one line per checkpoint, newest first, lanes at the left."""
    if not rows:
        return ""
    width = max(row.lane for row in rows) + 1
    spans = _spans(rows)
    lines = []
    for i, row in enumerate(rows):
        marks = []
        for lane in range(width):
            first, last = spans.get(lane, (-1, -1))
            if lane == row.lane:
                marks.append("?" if row.waiting and not row.answered else "*")
            else:
                marks.append("|" if first <= i <= last else " ")
        when = row.created_at.replace("T", " ")[:19]
        lines.append(f"{' '.join(marks)}  {when}  {row.id}  {_describe(row)}")
        for node, iid, value in row.waiting:
            pad = " " * (2 * width + 1)  # under the time
            what = "asked" if row.answered else "waiting"
            lines.append(f"{pad}{what} at {node} (interrupt {iid[:12]}): {short(value)}")
    return "\n".join(lines) + "\n"


_ROW, _LANE, _TOP, _LEFT = 34, 22, 24, 18
_COLOURS = {"input": "#9aa0a6", "loop": "#1a73e8", "update": "#9334e6", "fork": "#188038"}
_WAITING = "#e37400"


def svg(rows: Sequence[Row], title: str) -> str:
    """The timeline as an SVG picture: a dot per checkpoint, lines to parents, labels beside."""
    width_lanes = (max((row.lane for row in rows), default=0) + 1) * _LANE
    label_x = _LEFT + width_lanes + 10
    height = _TOP + 44 + _ROW * max(len(rows), 1)
    width = label_x + 760
    index = {row.id: i for i, row in enumerate(rows)}

    def x(lane: int) -> int:
        return _LEFT + lane * _LANE + _LANE // 2

    def y(i: int) -> int:
        return _TOP + 24 + i * _ROW

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12" '
        'xml:space="preserve" style="white-space:pre">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{_LEFT}" y="{_TOP - 4}" font-size="14" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    for i, row in enumerate(rows):  # lines first, dots over them
        parent = index.get(row.parent_id) if row.parent_id is not None else None
        if parent is None:
            continue
        x1, y1, x2, y2 = x(row.lane), y(i), x(rows[parent].lane), y(parent)
        path = (
            f"M{x1},{y1} L{x1},{y2 - _ROW // 2} L{x2},{y2}"
            if x1 != x2
            else f"M{x1},{y1} L{x2},{y2}"
        )
        out.append(f'<path class="link" d="{path}" stroke="#5f6368" fill="none"/>')
    for i, row in enumerate(rows):
        waiting = row.waiting and not row.answered
        colour = _WAITING if waiting else _COLOURS.get(row.source, "#5f6368")
        ring = ' stroke="black" stroke-width="2"' if i == 0 else ""
        out.append(
            f'<circle class="checkpoint" data-id="{escape(row.id)}" data-lane="{row.lane}" '
            f'cx="{x(row.lane)}" cy="{y(i)}" r="6" fill="{colour}"{ring}>'
            f"<title>{escape(row.id)}</title></circle>"
        )
        when = row.created_at.replace("T", " ")[11:19]
        label = f"{when}  {_describe(row)}"
        out.append(f'<text x="{label_x}" y="{y(i) + 4}">{escape(label)}</text>')
        for node, _iid, value in row.waiting[:1]:
            what = "asked" if row.answered else "waiting"
            out.append(
                f'<text x="{label_x}" y="{y(i) + 17}" fill="{colour}">'
                f"{escape(f'{what} at {node}: {short(value, 80)}')}</text>"
            )
    legend_y, legend_x = height - 12, _LEFT
    for name, colour in [*_COLOURS.items(), ("waiting", _WAITING)]:
        out.append(f'<circle cx="{legend_x + 5}" cy="{legend_y - 4}" r="5" fill="{colour}"/>')
        out.append(f'<text x="{legend_x + 14}" y="{legend_y}" fill="#5f6368">{name}</text>')
        legend_x += 24 + 8 * len(name)
    out.append("</svg>")
    return "\n".join(out) + "\n"
