"""Tests for pausegraph.graph._draw: Mermaid parity with LangGraph, ASCII, DOT and PNG.

How compiled graphs become drawings (``get_graph``, ``xray``) is in test_draw_built_graphs.py.
"""

from __future__ import annotations

import enum
import random
import shutil
import stat
import sys
from pathlib import Path

import pytest

from pausegraph.graph._draw import DrawableGraph, DrawEdge

S, N = "__start__", "__end__"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def graph(
    nodes: list[str], *edges: tuple[str, str] | tuple[str, str, bool, str | None]
) -> DrawableGraph:
    """Builds a DrawableGraph from (source, target[, conditional, label]) tuples."""
    return DrawableGraph(tuple(nodes), tuple(DrawEdge(*e) for e in edges))


# The same graphs as built with LangGraph 1.2.22 (see the comment above each expectation).
LINEAR_GRAPH = graph(
    [S, "step_1", "step_2", "step_3", N],
    (S, "step_1"), ("step_1", "step_2"), ("step_2", "step_3"), ("step_3", N),
)  # fmt: skip
NO_MAP_GRAPH = graph(
    [S, "agent", "tools", N],
    (S, "agent"), ("agent", N, True, None), ("agent", "tools", True, None), ("tools", "agent"),
)  # fmt: skip
PATH_MAP_GRAPH = graph(
    [S, "agent", "tools", N],
    (S, "agent"), ("agent", N, True, "end"), ("agent", "tools", True, "continue"),
    ("tools", "agent"),
)  # fmt: skip
FAN_GRAPH = graph(
    [S, "a", "b", "c", "d", N],
    (S, "a"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", N),
)  # fmt: skip
JOIN_GRAPH = graph([S, "a", "b", "c", N], (S, "a"), (S, "b"), ("a", "c"), ("b", "c"), ("c", N))
SELF_LOOP_GRAPH = graph(
    [S, "loop", N], (S, "loop"), ("loop", N, True, None), ("loop", "loop", True, None)
)
LONG_EDGE_GRAPH = graph(
    [S, "a", "b", "c", N], (S, "a"), ("a", "b"), ("b", "c"), ("a", "c"), ("c", N)
)
ROUTER_GRAPH = graph(
    [S, "router", "search", "answer", "clarify", N],
    (S, "router"), ("router", "search", True, "needs search"),
    ("router", "answer", True, "direct"), ("router", "clarify", True, "ask"),
    ("search", "answer"), ("answer", N), ("clarify", N),
)  # fmt: skip


# Output of graph.compile().get_graph().draw_mermaid() from LangGraph 1.2.22.
MERMAID_LINEAR = (
    "---\n"
    "config:\n"
    "  flowchart:\n"
    "    curve: linear\n"
    "---\n"
    "graph TD;\n"
    "\t__start__([<p>__start__</p>]):::first\n"
    "\tstep_1(step_1)\n"
    "\tstep_2(step_2)\n"
    "\tstep_3(step_3)\n"
    "\t__end__([<p>__end__</p>]):::last\n"
    "\t__start__ --> step_1;\n"
    "\tstep_1 --> step_2;\n"
    "\tstep_2 --> step_3;\n"
    "\tstep_3 --> __end__;\n"
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)

MERMAID_NO_MAP = (
    "---\n"
    "config:\n"
    "  flowchart:\n"
    "    curve: linear\n"
    "---\n"
    "graph TD;\n"
    "\t__start__([<p>__start__</p>]):::first\n"
    "\tagent(agent)\n"
    "\ttools(tools)\n"
    "\t__end__([<p>__end__</p>]):::last\n"
    "\t__start__ --> agent;\n"
    "\tagent -.-> __end__;\n"
    "\tagent -.-> tools;\n"
    "\ttools --> agent;\n"
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)

MERMAID_PATH_MAP = (
    "---\n"
    "config:\n"
    "  flowchart:\n"
    "    curve: linear\n"
    "---\n"
    "graph TD;\n"
    "\t__start__([<p>__start__</p>]):::first\n"
    "\tagent(agent)\n"
    "\ttools(tools)\n"
    "\t__end__([<p>__end__</p>]):::last\n"
    "\t__start__ --> agent;\n"
    "\tagent -. &nbsp;end&nbsp; .-> __end__;\n"
    "\tagent -. &nbsp;continue&nbsp; .-> tools;\n"
    "\ttools --> agent;\n"
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)

MERMAID_FAN = (
    "---\n"
    "config:\n"
    "  flowchart:\n"
    "    curve: linear\n"
    "---\n"
    "graph TD;\n"
    "\t__start__([<p>__start__</p>]):::first\n"
    "\ta(a)\n"
    "\tb(b)\n"
    "\tc(c)\n"
    "\td(d)\n"
    "\t__end__([<p>__end__</p>]):::last\n"
    "\t__start__ --> a;\n"
    "\ta --> b;\n"
    "\ta --> c;\n"
    "\tb --> d;\n"
    "\tc --> d;\n"
    "\td --> __end__;\n"
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)

MERMAID_JOIN = (
    "---\n"
    "config:\n"
    "  flowchart:\n"
    "    curve: linear\n"
    "---\n"
    "graph TD;\n"
    "\t__start__([<p>__start__</p>]):::first\n"
    "\ta(a)\n"
    "\tb(b)\n"
    "\tc(c)\n"
    "\t__end__([<p>__end__</p>]):::last\n"
    "\t__start__ --> a;\n"
    "\t__start__ --> b;\n"
    "\ta --> c;\n"
    "\tb --> c;\n"
    "\tc --> __end__;\n"
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)

MERMAID_SELF_LOOP = (
    "---\n"
    "config:\n"
    "  flowchart:\n"
    "    curve: linear\n"
    "---\n"
    "graph TD;\n"
    "\t__start__([<p>__start__</p>]):::first\n"
    "\tloop(loop)\n"
    "\t__end__([<p>__end__</p>]):::last\n"
    "\t__start__ --> loop;\n"
    "\tloop -.-> __end__;\n"
    "\tloop -.-> loop;\n"
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)


ASCII_LINEAR = """\
+-----------+
| __start__ |
+-----------+
      |
      v
 +--------+
 | step_1 |
 +--------+
      |
      v
 +--------+
 | step_2 |
 +--------+
      |
      v
 +--------+
 | step_3 |
 +--------+
      |
      v
 +---------+
 | __end__ |
 +---------+"""

ASCII_PATH_MAP = """\
     +-----------+
     | __start__ |
     +-----------+
           |
           v
       +-------+
       | agent |
       +-------+
           :
     +.....+......+
     :            :
 continue        end
     v            v
 +-------+   +---------+
 | tools |   | __end__ |
 +-------+   +---------+

loops:
  tools --> agent"""

ASCII_NO_MAP = """\
    +-----------+
    | __start__ |
    +-----------+
          |
          v
      +-------+
      | agent |
      +-------+
          :
    +.....+......+
    v            v
+-------+   +---------+
| tools |   | __end__ |
+-------+   +---------+

loops:
  tools --> agent"""

ASCII_FAN = """\
+-----------+
| __start__ |
+-----------+
      |
      v
    +---+
    | a |
    +---+
      |
  +---+---+
  v       v
+---+   +---+
| b |   | c |
+---+   +---+
  |       |
  +---+---+
      v
    +---+
    | d |
    +---+
      |
      v
 +---------+
 | __end__ |
 +---------+"""

ASCII_JOIN = """\
+-----------+
| __start__ |
+-----------+
      |
  +---+---+
  v       v
+---+   +---+
| a |   | b |
+---+   +---+
  |       |
  +---+---+
      v
    +---+
    | c |
    +---+
      |
      v
 +---------+
 | __end__ |
 +---------+"""

ASCII_SELF = """\
+-----------+
| __start__ |
+-----------+
      |
      v
  +------+
  | loop |
  +------+
      :
      v
 +---------+
 | __end__ |
 +---------+

loops:
  loop -.-> loop"""

ASCII_LONG = """\
+-----------+
| __start__ |
+-----------+
      |
      v
    +---+
    | a |
    +---+
      |
   +--+--+
   v     |
 +---+   |
 | b |   |
 +---+   |
   |     |
   +--+--+
      v
    +---+
    | c |
    +---+
      |
      v
 +---------+
 | __end__ |
 +---------+"""

ASCII_ROUTER = """\
           +-----------+
           | __start__ |
           +-----------+
                 |
                 v
            +--------+
            | router |
            +--------+
                 :
       +.........+........+
       :         :        :
 needs search    :       ask
       v         :        v
  +--------+     :   +---------+
  | search |     :   | clarify |
  +--------+     :   +---------+
       |         :        |
       +----+....+        |
            v             |
       +--------+         |
       | answer |         |
       +--------+         |
            |             |
            +------+------+
                   v
              +---------+
              | __end__ |
              +---------+

labels:
  router -. direct .-> answer"""

HEADER = "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
CLASS_DEFS = (
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)


# --- Mermaid -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drawable", "expected"),
    [
        (LINEAR_GRAPH, MERMAID_LINEAR),
        (NO_MAP_GRAPH, MERMAID_NO_MAP),
        (PATH_MAP_GRAPH, MERMAID_PATH_MAP),
        (FAN_GRAPH, MERMAID_FAN),
        (JOIN_GRAPH, MERMAID_JOIN),
        (SELF_LOOP_GRAPH, MERMAID_SELF_LOOP),
    ],
    ids=[
        "linear",
        "conditional-no-map",
        "conditional-path-map",
        "fan-out-fan-in",
        "join",
        "self-loop",
    ],
)
def test_mermaid_matches_langgraph(drawable: DrawableGraph, expected: str) -> None:
    assert drawable.draw_mermaid() == expected


def test_mermaid_without_styles() -> None:
    assert LINEAR_GRAPH.draw_mermaid(with_styles=False) == (
        "graph TD;\n"
        "\t__start__ --> step_1;\n"
        "\tstep_1 --> step_2;\n"
        "\tstep_2 --> step_3;\n"
        "\tstep_3 --> __end__;\n"
    )


def test_mermaid_curve_style_accepts_string_or_enum_value() -> None:
    class CurveStyle(enum.Enum):  # shaped like langchain_core's CurveStyle
        BASIS = "basis"

    for style in ("basis", CurveStyle.BASIS):
        text = LINEAR_GRAPH.draw_mermaid(curve_style=style)  # type: ignore[arg-type]
        assert text.startswith("---\nconfig:\n  flowchart:\n    curve: basis\n---\n")
    with pytest.raises(ValueError, match="curve_style"):
        LINEAR_GRAPH.draw_mermaid(curve_style="wiggly")


def test_mermaid_wraps_long_labels_like_langgraph() -> None:
    g = graph(
        [S, "a", N],
        (S, "a", True, "  one  two three four  "),
        ("a", N, True, "x  y"),
    )
    assert g.draw_mermaid(wrap_label_n_words=3) == (
        HEADER + "\t__start__([<p>__start__</p>]):::first\n"
        "\ta(a)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ -. &nbsp;one two three&nbsp<br>&nbspfour&nbsp; .-> a;\n"
        "\ta -. &nbsp;x  y&nbsp; .-> __end__;\n" + CLASS_DEFS
    )
    with pytest.raises(ValueError, match="wrap_label_n_words"):
        g.draw_mermaid(wrap_label_n_words=0)


def test_mermaid_escapes_ids_but_not_labels() -> None:
    g = graph(
        [S, "my node", "a-b", "ünï", "x.y", "__a b__", N],
        (S, "my node"), ("my node", "a-b"), ("a-b", "ünï"), ("ünï", "x.y"),
        ("x.y", "__a b__"), ("__a b__", N),
    )  # fmt: skip
    assert g.draw_mermaid() == (
        HEADER + "\t__start__([<p>__start__</p>]):::first\n"
        "\tmy\\20node(my node)\n"
        "\ta-b(a-b)\n"
        "\t\\fcn\\ef(ünï)\n"
        "\tx\\2ey(x.y)\n"
        "\t__a\\20b__(<p>__a b__</p>)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> my\\20node;\n"
        "\tmy\\20node --> a-b;\n"
        "\ta-b --> \\fcn\\ef;\n"
        "\t\\fcn\\ef --> x\\2ey;\n"
        "\tx\\2ey --> __a\\20b__;\n"
        "\t__a\\20b__ --> __end__;\n" + CLASS_DEFS
    )


def test_mermaid_first_and_last_need_a_unique_candidate() -> None:
    # Two nodes without incoming edges: no "first"; the only sink is "last" even if not __end__.
    g = graph([S, "a", "b", "c"], (S, "a"), ("b", "a"), ("a", "c"))
    assert g.draw_mermaid() == (
        HEADER + "\t__start__(<p>__start__</p>)\n"
        "\ta(a)\n"
        "\tb(b)\n"
        "\tc([c]):::last\n"
        "\t__start__ --> a;\n"
        "\tb --> a;\n"
        "\ta --> c;\n" + CLASS_DEFS
    )
    # A lone node is both; LangGraph shows it as last.
    assert (
        graph([S]).draw_mermaid()
        == HEADER + "\t__start__([<p>__start__</p>]):::last\n" + CLASS_DEFS
    )
    assert graph([]).draw_mermaid() == HEADER + CLASS_DEFS
    assert graph([]).draw_mermaid(with_styles=False) == "graph TD;\n"


def test_mermaid_labels_on_plain_edges_and_empty_labels() -> None:
    g = graph([S, "a", N], (S, "a", False, "lab"), ("a", N, True, ""))
    assert g.draw_mermaid(with_styles=False) == (
        "graph TD;\n\t__start__ -- &nbsp;lab&nbsp; --> a;\n\ta -. &nbsp;&nbsp; .-> __end__;\n"
    )


def test_mermaid_lists_self_loops_last_and_groups_repeated_ones() -> None:
    g = graph(
        ["a", "x", "y"],
        ("x", "x"), ("a", "x"), ("x", "x", True, None), ("y", "y"), ("x", "y"),
    )  # fmt: skip
    assert g.draw_mermaid(with_styles=False) == (
        "graph TD;\n"
        "\ta --> x;\n"
        "\tx --> y;\n"
        "\tsubgraph x\n"
        "\tx --> x;\n"
        "\tx -.-> x;\n"
        "\tend\n"
        "\ty --> y;\n"
    )


def test_mermaid_matches_langchain_core_on_random_graphs() -> None:
    """Cross-checks against the reference implementation when it is installed."""
    lc_graph = pytest.importorskip("langchain_core.runnables.graph")
    rng = random.Random(7)
    names = [S, N, "a", "b", "c d", "e-f", "g.h", "__x__", "ünï", "日本", "__", "x(y)", 'q"r']
    labels = [None, "", "go", " spaced  out ", "one two three four five six seven eight nine ten"]
    for _ in range(1000):
        nodes = rng.sample(names, rng.randint(0, len(names)))
        edges = []
        for _ in range(rng.randint(0, 12) if nodes else 0):
            edges.append(
                (rng.choice(nodes), rng.choice(nodes), rng.random() < 0.5, rng.choice(labels))
            )
        ours = graph(nodes, *edges)
        ref = lc_graph.Graph()
        for name in nodes:
            ref.nodes[name] = lc_graph.Node(id=name, name=name, data=None, metadata=None)
        for source, target, cond, label in edges:
            ref.edges.append(lc_graph.Edge(source, target, label, cond))
        for kwargs in ({}, {"with_styles": False}, {"wrap_label_n_words": 2}):
            assert ours.draw_mermaid(**kwargs) == ref.draw_mermaid(**kwargs)


# --- ASCII ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drawable", "expected"),
    [
        (LINEAR_GRAPH, ASCII_LINEAR),
        (PATH_MAP_GRAPH, ASCII_PATH_MAP),
        (NO_MAP_GRAPH, ASCII_NO_MAP),
        (FAN_GRAPH, ASCII_FAN),
        (JOIN_GRAPH, ASCII_JOIN),
        (SELF_LOOP_GRAPH, ASCII_SELF),
        (LONG_EDGE_GRAPH, ASCII_LONG),
        (ROUTER_GRAPH, ASCII_ROUTER),
    ],
    ids=[
        "linear",
        "path-map",
        "no-map",
        "fan-out-fan-in",
        "join",
        "self-loop",
        "long-edge",
        "router",
    ],
)
def test_ascii_drawings(drawable: DrawableGraph, expected: str) -> None:
    assert drawable.draw_ascii() == expected


def test_ascii_small_cases() -> None:
    assert graph([]).draw_ascii() == ""
    assert graph(["solo"]).draw_ascii() == "+------+\n| solo |\n+------+"
    # Without __start__, the search for loops begins at the first node.
    assert graph(["p", "q"], ("p", "q"), ("q", "p")).draw_ascii() == (
        "+---+\n| p |\n+---+\n  |\n  v\n+---+\n| q |\n+---+\n\nloops:\n  q --> p"
    )
    # Unconnected nodes sit side by side in the first layer.
    assert graph([S, "lonely"]).draw_ascii() == (
        "+-----------+   +--------+\n| __start__ |   | lonely |\n+-----------+   +--------+"
    )


def test_ascii_random_graphs_are_deterministic_and_complete() -> None:
    rng = random.Random(3)
    for _ in range(200):
        names = [S, *(f"n{i}" for i in range(rng.randint(1, 8))), N]
        edges: list[tuple[str, str, bool, str | None]] = [(S, "n0", False, None)]
        for _ in range(rng.randint(0, 14)):
            cond = rng.random() < 0.4
            edges.append(
                (rng.choice(names[:-1]), rng.choice(names[1:]), cond, "go" if cond else None)
            )
        g = graph(names, *edges)
        text = g.draw_ascii()
        assert text == g.draw_ascii()
        for name in names:
            assert f"| {name} |" in text
        assert all(line == line.rstrip() for line in text.splitlines())


def test_print_ascii(capsys: pytest.CaptureFixture[str]) -> None:
    LINEAR_GRAPH.print_ascii()
    assert capsys.readouterr().out == ASCII_LINEAR + "\n"


# --- DOT, JSON, construction ---------------------------------------------------------------


def test_draw_dot() -> None:
    assert PATH_MAP_GRAPH.draw_dot() == (
        "digraph {\n"
        "\trankdir=TB;\n"
        '\tnode [shape=box, style="rounded,filled", fillcolor="#f2f0ff", fontname="Helvetica"];\n'
        '\tedge [fontname="Helvetica"];\n'
        '\t"__start__" [shape=ellipse, style=solid];\n'
        '\t"agent";\n'
        '\t"tools";\n'
        '\t"__end__" [shape=ellipse, style=filled, fillcolor="#bfb6fc"];\n'
        '\t"__start__" -> "agent";\n'
        '\t"agent" -> "__end__" [style=dashed, label=" end "];\n'
        '\t"agent" -> "tools" [style=dashed, label=" continue "];\n'
        '\t"tools" -> "agent";\n'
        "}\n"
    )
    quoted = graph(['say "hi"', "back\\slash"], ('say "hi"', "back\\slash", False, "a\nb"))
    assert '\t"say \\"hi\\"" -> "back\\\\slash" [label=" a\\nb "];\n' in quoted.draw_dot()


def test_to_json() -> None:
    assert NO_MAP_GRAPH.to_json()["nodes"] == [
        {"id": S}, {"id": "agent"}, {"id": "tools"}, {"id": N}
    ]  # fmt: skip
    assert PATH_MAP_GRAPH.to_json()["edges"][:2] == [
        {"source": S, "target": "agent", "conditional": False, "data": None},
        {"source": "agent", "target": N, "conditional": True, "data": "end"},
    ]


def test_construction_normalises_and_validates() -> None:
    g = DrawableGraph(["a", "b"], [DrawEdge("a", "b")])  # type: ignore[arg-type]
    assert g.nodes == ("a", "b")
    assert g.edges == (DrawEdge("a", "b"),)
    with pytest.raises(ValueError, match="duplicate node names"):
        graph(["a", "a"])
    with pytest.raises(ValueError, match="a -> ghost"):
        graph(["a"], ("a", "ghost"))


# --- PNG -----------------------------------------------------------------------------------

REAL_DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(
    REAL_DOT is None,
    reason="Graphviz `dot` is not on PATH (apt-get install graphviz) - PNG rendering untested",
)


def fake_tool(directory: Path, name: str, body: str) -> None:
    """Writes an executable Python script called ``name`` into ``directory``."""
    path = directory / name
    path.write_text(f"#!{sys.executable}\nimport sys, pathlib\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@needs_dot
def test_draw_png_with_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL_DOT is not None
    monkeypatch.setenv("PATH", str(Path(REAL_DOT).parent))  # no mmdc here, so Graphviz renders
    out = tmp_path / "graph.png"
    png = PATH_MAP_GRAPH.draw_mermaid_png(output_file_path=str(out))
    assert png.startswith(PNG_SIGNATURE)
    assert out.read_bytes() == png
    assert PATH_MAP_GRAPH.draw_png().startswith(PNG_SIGNATURE)


def test_draw_png_prefers_mermaid_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir, seen = tmp_path / "bin", tmp_path / "seen.mmd"
    bin_dir.mkdir()
    fake_tool(
        bin_dir,
        "mmdc",
        "args = sys.argv[1:]\n"
        "src, out = args[args.index('-i') + 1], args[args.index('-o') + 1]\n"
        f"pathlib.Path({str(seen)!r}).write_text(pathlib.Path(src).read_text())\n"
        "pathlib.Path(out).write_bytes(b'\\x89PNG\\r\\n\\x1a\\nfake-mermaid')",
    )
    fake_tool(bin_dir, "dot", "sys.exit('dot should not run')")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert PATH_MAP_GRAPH.draw_png(str(tmp_path / "g.png")) == PNG_SIGNATURE + b"fake-mermaid"
    assert seen.read_text() == MERMAID_PATH_MAP
    assert (tmp_path / "g.png").read_bytes() == PNG_SIGNATURE + b"fake-mermaid"


def test_draw_png_falls_back_to_graphviz_and_reports_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tool(tmp_path, "mmdc", "sys.exit('chrome is missing')")
    fake_tool(tmp_path, "dot", "sys.stdout.write('digraph ok')")  # exits 0 but writes no PNG
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="chrome is missing") as info:
        LINEAR_GRAPH.draw_mermaid_png()
    assert "no PNG written" in str(info.value)
    if REAL_DOT is not None:  # with real Graphviz behind a broken mmdc, Graphviz renders
        (tmp_path / "dot").unlink()
        (tmp_path / "dot").symlink_to(REAL_DOT)
        assert LINEAR_GRAPH.draw_mermaid_png().startswith(PNG_SIGNATURE)


def test_draw_png_without_renderer_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = pytest.importorskip("pausegraph.errors", reason="pausegraph.errors not written yet")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(errors.MissingDependencyError) as info:
        LINEAR_GRAPH.draw_mermaid_png()
    assert isinstance(info.value, ImportError)
    message = str(info.value)
    assert "apt-get install graphviz" in message
    assert "npm install -g @mermaid-js/mermaid-cli" in message
    assert "draw_mermaid()" in message
