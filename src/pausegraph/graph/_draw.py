"""Drawing a graph: Mermaid text (LangGraph's format), ASCII art, Graphviz DOT and PNG.

Works only from a :class:`DrawableGraph` and the standard library; PNG output
shells out to ``mmdc`` (mermaid-cli) or Graphviz ``dot`` when one is installed.
"""

from __future__ import annotations

import itertools
import math
import shutil
import string
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_START = "__start__"

_CURVE_STYLES = frozenset(
    ("basis", "bumpX", "bumpY", "cardinal", "catmullRom", "linear", "monotoneX", "monotoneY",
     "natural", "step", "stepAfter", "stepBefore")
)  # fmt: skip
_SAFE_ID_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
_CLASS_DEFS = (
    "\tclassDef default fill:#f2f0ff,line-height:1.2",
    "\tclassDef first fill-opacity:0",
    "\tclassDef last fill:#bfb6fc",
)
_MARKDOWN = frozenset("*_`")  # a name between two of these shows as <p>name</p>
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_RENDER_TIMEOUT_S = 120.0
_INSTALL_HINT = (
    "draw_mermaid_png needs an offline renderer: install Graphviz (apt-get install graphviz) "
    "or mermaid-cli (npm install -g @mermaid-js/mermaid-cli); draw_mermaid() gives the text "
    "without one."
)
_BOX_GAP = 3  # blank columns between neighbouring items of one ASCII layer


@dataclass(frozen=True, slots=True)
class DrawEdge:
    """One edge of a drawable graph.

    Attributes:
        source: Name of the node the edge leaves.
        target: Name of the node the edge enters.
        conditional: Whether the edge comes from a conditional branch.
        label: The path-map key for a conditional edge, ``None`` otherwise.
    """

    source: str
    target: str
    conditional: bool = False
    label: str | None = None


@dataclass(frozen=True)
class DrawableGraph:
    """A graph's shape, ready to draw.

    Attributes:
        nodes: Node names in display order, including ``__start__`` and
            ``__end__`` when they are used.
        edges: The edges, in display order.
        metadata: Per node, what Mermaid shows under its name (``key = value``
            lines): the node's metadata, ``defer`` and ``__interrupt``, as LangGraph.
    """

    nodes: tuple[str, ...]
    edges: tuple[DrawEdge, ...]
    metadata: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Normalises sequences to tuples and checks the edges' endpoints.

        Raises:
            ValueError: If a node is listed twice or an edge names an unknown node.
        """
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "edges", tuple(self.edges))
        if dupes := sorted(n for n, c in Counter(self.nodes).items() if c > 1):
            raise ValueError(f"duplicate node names: {dupes}")
        known = set(self.nodes)
        if bad := [f"{e.source} -> {e.target}" for e in self.edges if {e.source, e.target} - known]:
            raise ValueError(f"edges name nodes that are not in the graph: {bad}")

    def _first_last(self) -> tuple[str | None, str | None]:
        """Returns the unique node with no incoming edge and the unique one with no outgoing."""
        targets = {e.target for e in self.edges}
        sources = {e.source for e in self.edges}
        firsts = [n for n in self.nodes if n not in targets]
        lasts = [n for n in self.nodes if n not in sources]
        return (firsts[0] if len(firsts) == 1 else None, lasts[0] if len(lasts) == 1 else None)

    def draw_mermaid(
        self, *, with_styles: bool = True, curve_style: str = "linear", wrap_label_n_words: int = 9
    ) -> str:
        """Renders the graph as Mermaid flowchart text, in LangGraph's format.

        Args:
            with_styles: Emit the config header, node declarations and class definitions.
            curve_style: Mermaid edge curve, e.g. ``"linear"`` or ``"basis"``. An enum whose
                ``value`` is such a string (LangChain's ``CurveStyle``) is accepted too.
            wrap_label_n_words: Edge labels longer than this many words are wrapped.

        Returns:
            The Mermaid source, ending with a newline.

        Raises:
            ValueError: If the curve style is unknown or ``wrap_label_n_words`` < 1.
        """
        curve = str(getattr(curve_style, "value", curve_style))
        if curve not in _CURVE_STYLES:
            raise ValueError(f"unknown curve_style {curve!r}; use one of {sorted(_CURVE_STYLES)}")
        if wrap_label_n_words < 1:
            raise ValueError("wrap_label_n_words must be at least 1")
        lines: list[str] = []
        if with_styles:
            lines += ["---", "config:", "  flowchart:", f"    curve: {curve}", "---"]
        lines.append("graph TD;")
        first, last = self._first_last()

        def node_line(node: str) -> str:
            name = node.rsplit(":", 1)[-1]  # a subgraph's node (xray) shows its own name
            text = f"<p>{name}</p>" if name[:1] in _MARKDOWN and name[-1:] in _MARKDOWN else name
            if notes := _metadata_lines(self.metadata.get(node)):
                text = f"{text}<hr/><small><em>{notes}</em></small>"
            if node == last:
                return f"\t{_mermaid_id(node)}([{text}]):::last"
            if node == first:
                return f"\t{_mermaid_id(node)}([{text}]):::first"
            return f"\t{_mermaid_id(node)}({text})"

        # As LangChain's renderer: a subgraph's nodes (xray ids "sub:node") and the
        # edges inside it go in a "subgraph" block; edges are grouped by the prefix
        # their ends share, so self-loops come after the other edges.
        in_blocks: dict[str, list[str]] = {}
        for node in self.nodes:
            if ":" in node:
                in_blocks.setdefault(node.rsplit(":", 1)[0], []).append(node)
            elif with_styles:
                lines.append(node_line(node))
        groups: dict[str, list[DrawEdge]] = {}
        for edge in self.edges:
            shared = itertools.takewhile(
                lambda pair: pair[0] == pair[1],
                zip(edge.source.split(":"), edge.target.split(":"), strict=False),
            )
            groups.setdefault(":".join(a for a, _ in shared), []).append(edge)
        opened: set[str] = set()

        def block(prefix: str, edges: list[DrawEdge]) -> None:
            self_loop = len(edges) == 1 and edges[0].source == edges[0].target
            if prefix and not self_loop:
                opened.add(prefix.rsplit(":", 1)[-1])
                lines.append(f"\tsubgraph {prefix.rsplit(':', 1)[-1]}")
                if with_styles:
                    lines.extend(node_line(n) for n in in_blocks.get(prefix, ()))
            for edge in edges:
                label = None if edge.label is None else _wrap_words(edge.label, wrap_label_n_words)
                arrow = _arrow(edge, None if label is None else f"&nbsp;{label}&nbsp;")
                lines.append(f"\t{_mermaid_id(edge.source)} {arrow} {_mermaid_id(edge.target)};")
            for inner, inner_edges in groups.items():
                rest = inner[len(prefix) + 1 :]
                if inner.startswith(prefix + ":") and inner != prefix and ":" not in rest:
                    block(inner, inner_edges)
            if prefix and not self_loop:
                lines.append("\tend")

        block("", groups.get("", []))
        for prefix, edges in groups.items():
            if prefix and ":" not in prefix:
                block(prefix, edges)
                opened.add(prefix)
        if with_styles:
            for prefix, nodes in in_blocks.items():
                if ":" not in prefix and prefix not in opened:
                    lines += [f"\tsubgraph {prefix}", *map(node_line, nodes), "\tend"]
                    opened.add(prefix)
        if with_styles:
            lines += _CLASS_DEFS
        return "\n".join(lines) + "\n"

    def draw_ascii(self) -> str:
        """Renders the graph as box-and-arrow ASCII art, layered top to bottom.

        Conditional edges are dotted (``:`` and ``.``); ``+`` marks where lines
        join. Edges that close a cycle are listed under ``loops:`` rather than
        drawn, and labels that do not fit beside their arrow under ``labels:``.

        Returns:
            The drawing, without a trailing newline.
        """
        return _AsciiCanvas(self).render()

    def print_ascii(self) -> None:
        """Prints :meth:`draw_ascii`."""
        print(self.draw_ascii())

    def draw_dot(self) -> str:
        """Renders the graph as Graphviz DOT (conditional edges dashed).

        Returns:
            The DOT source, ending with a newline.
        """
        first, last = self._first_last()
        lines = [
            "digraph {",
            "\trankdir=TB;",
            '\tnode [shape=box, style="rounded,filled", fillcolor="#f2f0ff", fontname="Helvetica"];',
            '\tedge [fontname="Helvetica"];',
        ]
        ends = {first: " [shape=ellipse, style=solid]"}
        ends[last] = ' [shape=ellipse, style=filled, fillcolor="#bfb6fc"]'  # wins if first is last
        lines += (f"\t{_dot_id(node)}{ends.get(node, '')};" for node in self.nodes)
        for edge in self.edges:
            attrs_list = ["style=dashed"] if edge.conditional else []
            if edge.label is not None:
                attrs_list.append(f"label={_dot_id(f' {edge.label} ')}")
            attrs = f" [{', '.join(attrs_list)}]" if attrs_list else ""
            lines.append(f"\t{_dot_id(edge.source)} -> {_dot_id(edge.target)}{attrs};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def draw_mermaid_png(self, *, output_file_path: str | None = None) -> bytes:
        """Renders the graph to PNG offline: ``mmdc`` (mermaid-cli) if on ``PATH``, else ``dot``.

        Args:
            output_file_path: If given, the PNG is also written to this path.

        Returns:
            The PNG bytes.

        Raises:
            MissingDependencyError: If neither ``mmdc`` nor ``dot`` is on ``PATH``.
            RuntimeError: If every renderer found failed.
        """
        mmdc, dot = shutil.which("mmdc"), shutil.which("dot")
        if mmdc is None and dot is None:
            from pausegraph.errors import MissingDependencyError

            raise MissingDependencyError(_INSTALL_HINT)
        with tempfile.TemporaryDirectory(prefix="pausegraph-draw-") as tmp:
            jobs: list[list[str]] = []
            if mmdc is not None:
                Path(tmp, "in.mmd").write_text(self.draw_mermaid(), encoding="utf-8")
                jobs.append([mmdc, "-i", "in.mmd", "-o", "out.png"])
            if dot is not None:
                Path(tmp, "in.dot").write_text(self.draw_dot(), encoding="utf-8")
                jobs.append([dot, "-Tpng", "in.dot", "-o", "out.png"])
            png = _first_png(jobs, Path(tmp))
        if output_file_path is not None:
            Path(output_file_path).write_bytes(png)
        return png

    def draw_png(self, output_file_path: str | None = None) -> bytes:
        """Same as :meth:`draw_mermaid_png`.

        Args:
            output_file_path: If given, the PNG is also written to this path.

        Returns:
            The PNG bytes.
        """
        return self.draw_mermaid_png(output_file_path=output_file_path)

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        """Returns the graph as plain JSON-ready data.

        Returns:
            ``{"nodes": [{"id": ...}], "edges": [{"source", "target", "conditional", "data"}]}``
            where ``data`` is the edge's label (or ``None``).
        """
        return {
            "nodes": [{"id": node} for node in self.nodes],
            "edges": [
                dict(source=e.source, target=e.target, conditional=e.conditional, data=e.label)
                for e in self.edges
            ],
        }


def _mermaid_id(name: str) -> str:
    """Escapes a node name into a Mermaid-safe id (``\\`` + hex code for other characters)."""
    return "".join(c if c in _SAFE_ID_CHARS else f"\\{ord(c):x}" for c in name)


_LABEL_ESCAPES = {
    "[": "#91;", "]": "#93;", "(": "#40;", ")": "#41;", "{": "#123;", "}": "#125;",
    '"': "#quot;", "<": "#60;", ">": "#62;", "|": "#124;",
}  # fmt: skip
_SCALARS = (str, int, float, bool)


def _metadata_lines(metadata: Mapping[str, Any] | None) -> str:
    """A node's metadata as Mermaid label lines: scalars and lists of scalars, escaped."""
    lines = []
    for key, value in (metadata or {}).items():
        if isinstance(value, _SCALARS):
            text = str(value)
        elif isinstance(value, list | tuple | set) and all(isinstance(v, _SCALARS) for v in value):
            items = [str(v) for v in value]
            text = ", ".join(sorted(items) if isinstance(value, set) else items)
        else:
            continue
        line = f"{key} = {text}"
        for char, entity in _LABEL_ESCAPES.items():
            line = line.replace(char, entity)
        lines.append(line)
    return "\n".join(lines)


def _wrap_words(label: str, n_words: int) -> str:
    """Breaks a label longer than ``n_words`` words into Mermaid lines."""
    words = label.split()
    if len(words) <= n_words:
        return label
    chunks = (" ".join(words[i : i + n_words]) for i in range(0, len(words), n_words))
    return "&nbsp<br>&nbsp".join(chunks)


def _dot_id(text: str) -> str:
    """Quotes a string for DOT."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _first_png(jobs: list[list[str]], workdir: Path) -> bytes:
    """Runs each renderer command in ``workdir`` until one writes a PNG to ``out.png``."""
    failures, out = [], workdir / "out.png"
    for command in jobs:
        out.unlink(missing_ok=True)
        try:
            done = subprocess.run(
                command, cwd=workdir, capture_output=True, timeout=_RENDER_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            failures.append(f"{command[0]}: {exc}")
            continue
        png = out.read_bytes() if out.is_file() else b""
        if done.returncode == 0 and png.startswith(_PNG_SIGNATURE):
            return png
        err = done.stderr.decode(errors="replace").strip() or "no PNG written"
        failures.append(f"{command[0]} (exit status {done.returncode}): {err}")
    raise RuntimeError("could not render the graph to PNG: " + "; ".join(failures))


def _arrow(edge: DrawEdge, text: str | None) -> str:
    """Mermaid arrow for an edge: ``-->``, ``-.->``, ``-- text -->`` or ``-. text .->``."""
    if text is None:
        return "-.->" if edge.conditional else "-->"
    return f"-. {text} .->" if edge.conditional else f"-- {text} -->"


class _AsciiCanvas:
    """Lays out and paints a :class:`DrawableGraph` as text.

    Items are the real nodes (ids ``0..n-1``) plus one dummy per layer crossed
    by a long edge (ids ``n..``); each segment joins items of adjacent layers.
    """

    def __init__(self, graph: DrawableGraph) -> None:
        self.names = list(graph.nodes)
        self.edges = list(graph.edges)
        self.cells: dict[tuple[int, int], str] = {}
        self.footer_labels: list[int] = []
        n = len(self.names)
        index = {name: i for i, name in enumerate(self.names)}
        self.src = [index[e.source] for e in self.edges]
        self.dst = [index[e.target] for e in self.edges]
        out: list[list[int]] = [[] for _ in range(n)]
        for ei, s in enumerate(self.src):
            out[s].append(ei)
        # Depth-first search from __start__ (then any unvisited node) marks back edges.
        state, post, self.back = [0] * n, [], set()
        for root in ([index[_START]] if _START in index else []) + list(range(n)):
            if state[root]:
                continue
            state[root] = 1
            stack: list[tuple[int, Iterator[int]]] = [(root, iter(out[root]))]
            while stack:
                node, pending = stack[-1]
                for ei in pending:
                    if state[self.dst[ei]] == 1:
                        self.back.add(ei)
                    elif state[self.dst[ei]] == 0:
                        state[self.dst[ei]] = 1
                        stack.append((self.dst[ei], iter(out[self.dst[ei]])))
                        break
                else:
                    state[node] = 2
                    post.append(node)
                    stack.pop()
        # Longest-path layering over forward edges, in topological (reverse post-) order.
        self.layer = [0] * n
        for u in reversed(post):
            for ei in out[u]:
                if ei not in self.back:
                    self.layer[self.dst[ei]] = max(self.layer[self.dst[ei]], self.layer[u] + 1)
        self.dummy_edge: dict[int, int] = {}
        self.segs: list[tuple[int, int, int]] = []
        for ei in range(len(self.edges)):
            if ei in self.back:
                continue
            prev = self.src[ei]
            for _ in range(self.layer[prev] + 1, self.layer[self.dst[ei]]):
                self.layer.append(self.layer[prev] + 1)
                self.dummy_edge[len(self.layer) - 1] = ei
                self.segs.append((prev, len(self.layer) - 1, ei))
                prev = len(self.layer) - 1
            self.segs.append((prev, self.dst[ei], ei))
        self.rows: list[list[int]] = [[] for _ in range(max(self.layer, default=-1) + 1)]
        for item, lay in enumerate(self.layer):
            self.rows[lay].append(item)
        self._order()
        self._place()

    def _order(self) -> None:
        """Reduces crossings with barycentre sweeps (down, up, down); ties keep order."""
        self.preds: dict[int, list[int]] = {i: [] for i in range(len(self.layer))}
        succs: dict[int, list[int]] = {i: [] for i in range(len(self.layer))}
        for a, b, _ in self.segs:
            self.preds[b].append(a)
            succs[a].append(b)
        pos = {item: i for row in self.rows for i, item in enumerate(row)}
        last = len(self.rows) - 1
        for nbrs, ks in ((self.preds, range(1, last + 1)), (succs, range(last - 1, -1, -1)),
                         (self.preds, range(1, last + 1))):  # fmt: skip
            for k in ks:

                def key(item: int, nbrs: dict[int, list[int]] = nbrs) -> tuple[float, int]:
                    near = nbrs[item]
                    centre = sum(pos[x] for x in near) / len(near) if near else pos[item]
                    return (centre, pos[item])

                self.rows[k].sort(key=key)
                pos.update((item, i) for i, item in enumerate(self.rows[k]))

    def _width(self, item: int) -> int:
        return len(self.names[item]) + 4 if item < len(self.names) else 1

    def _footprint(self, item: int) -> int:
        """Columns reserved for an item: its box, or the widest label arriving above it."""
        labels = [
            self.edges[ei].label or "" for _, b, ei in self.segs if b == item < len(self.names)
        ]
        return max([self._width(item)] + [len(t) + 2 for t in labels if t])

    def _place(self) -> None:
        """Sets each item's port column ``x``: as near its parents' mean as spacing allows.

        Per layer this is isotonic regression (pool adjacent violators) on the
        wanted columns minus the minimum offsets between neighbours.
        """
        self.x: dict[int, int] = {}
        for row in self.rows:
            fps = [self._footprint(i) for i in row]
            offs = [0]
            for a, b in itertools.pairwise(fps):
                offs.append(offs[-1] + a - a // 2 + _BOX_GAP + b // 2)
            blocks: list[list[float]] = []  # [sum of targets, count]
            for item, off in zip(row, offs, strict=True):
                near = self.preds[item]
                want = sum(self.x[p] for p in near) / len(near) if near else 0.0
                blocks.append([want - off, 1.0])
                while (
                    len(blocks) > 1
                    and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]
                ):
                    total, count = blocks.pop()
                    blocks[-1][0] += total
                    blocks[-1][1] += count
            i = 0
            for total, count in blocks:
                for _ in range(int(count)):
                    self.x[row[i]] = math.floor(total / count + 0.5) + offs[i]
                    i += 1
        shift = min((self.x[i] - self._footprint(i) // 2 for i in self.x), default=0)
        self.x = {i: col - shift for i, col in self.x.items()}
        self.left = {i: col - self._width(i) // 2 for i, col in self.x.items()}

    def _put(self, row: int, col: int, text: str, *, down: bool = False) -> None:
        """Writes ``text`` rightwards, or downwards with ``down``."""
        for i, ch in enumerate(text):
            self.cells[(row + i, col) if down else (row, col + i)] = ch

    def render(self) -> str:
        """Paints layers and the bands between them; returns the text with footers."""
        y = 0
        n = len(self.names)
        for k, row in enumerate(self.rows):
            for item in row:
                if item < n:
                    border = "+" + "-" * (self._width(item) - 2) + "+"
                    self._put(y, self.left[item], border)
                    self._put(y + 1, self.left[item], f"| {self.names[item]} |")
                    self._put(y + 2, self.left[item], border)
                else:
                    dotted = self.edges[self.dummy_edge[item]].conditional
                    self._put(y, self.x[item], (":" if dotted else "|") * 3, down=True)
            y += 3
            if k + 1 < len(self.rows):
                y = self._band(k, y)
        height = max((r for r, _ in self.cells), default=-1) + 1
        width = max((c for _, c in self.cells), default=-1) + 1
        lines = [
            "".join(self.cells.get((r, c), " ") for c in range(width)).rstrip()
            for r in range(height)
        ]
        for title, found in (("loops:", sorted(self.back)), ("labels:", self.footer_labels)):
            if found:
                edges = (self.edges[ei] for ei in found)
                lines += [
                    "",
                    title,
                    *(f"  {e.source} {_arrow(e, e.label)} {e.target}" for e in edges),
                ]
        return "\n".join(lines)

    def _band(self, k: int, y: int) -> int:
        """Routes segments leaving layer ``k`` in rows from ``y``; returns the next free row."""
        x, n = self.x, len(self.names)
        band = sorted((s for s in self.segs if self.layer[s[0]] == k), key=lambda s: x[s[1]])
        groups: dict[tuple[int, bool], list[int]] = {}  # (source, dotted) -> target items
        for a, b, ei in band:
            groups.setdefault((a, self.edges[ei].conditional), []).append(b)
        spans = {
            g: (min(x[g[0]], *(x[b] for b in ts)), max(x[g[0]], *(x[b] for b in ts)))
            for g, ts in groups.items()
            if any(x[b] != x[g[0]] for b in ts)
        }
        # A group must turn above any group whose arrow enters its source column,
        # unless it also runs straight down that column (then both reach the same node).
        cols = {g: {x[b] for b in ts} for g, ts in groups.items()}
        deps = {g: [h for h in spans if x[h[0]] in cols[g] - cols[h]] for g in spans}

        def compatible(g: tuple[int, bool], h: tuple[int, bool]) -> bool:
            """Whether two groups can share a track row: apart, or meeting at a common arrow."""
            (glo, ghi), (hlo, hhi) = spans[g], spans[h]
            touch = ghi if ghi == hlo else glo if glo == hhi else None
            if ghi + 1 < hlo or hhi + 1 < glo:
                return True
            return touch is not None and touch in cols[g] & cols[h] - {x[g[0]], x[h[0]]}

        track: dict[tuple[int, bool], int] = {}
        tracks: list[list[tuple[int, bool]]] = []
        pending = sorted(spans, key=lambda g: (x[g[0]], g[1]))
        while pending:
            g = next((g for g in pending if all(d in track for d in deps[g])), pending[0])
            pending.remove(g)
            r = max((track[d] + 1 for d in deps[g] if d in track), default=0)
            while r < len(tracks) and not all(compatible(g, h) for h in tracks[r]):
                r += 1
            if r == len(tracks):
                tracks.append([])
            tracks[r].append(g)
            track[g] = r
        arrivals = Counter(x[b] for _, b, _ in band)
        inline: list[tuple[int, str]] = []
        for _, b, ei in band:
            text = self.edges[ei].label
            if b >= n or not text:
                continue
            lo, hi = x[b] - len(text) // 2, x[b] - len(text) // 2 + len(text) - 1
            if (arrivals[x[b]] == 1 and lo >= 0
                    and all(c == x[b] or not lo - 1 <= c <= hi + 1 for c in arrivals)
                    and all(c + len(t) < lo or hi + 1 < c for c, t in inline)):  # fmt: skip
                inline.append((lo, text))
            else:
                self.footer_labels.append(ei)
        arrow = y + 1 + len(tracks) + (1 + bool(tracks) if inline else 0)
        for (a, dotted), targets in sorted(groups.items(), key=lambda kv: -kv[0][1]):
            ch = ":" if dotted else "|"
            turn = y + 1 + track[(a, dotted)] if (a, dotted) in track else None
            if turn is not None:
                self._put(y, x[a], ch * (turn - y), down=True)
            for b in targets:
                top = y if turn is None else turn + 1
                self._put(top, x[b], ch * (arrow - top) + ("v" if b < n else ch), down=True)
        for g, r in track.items():
            self._put(
                y + 1 + r, spans[g][0], ("." if g[1] else "-") * (spans[g][1] - spans[g][0] + 1)
            )
        for g, r in track.items():
            for col in {x[g[0]], *(x[b] for b in groups[g])}:
                self.cells[(y + 1 + r, col)] = "+"
        for lo, text in inline:
            self._put(arrow - 1, lo, text)
        return arrow + 1
