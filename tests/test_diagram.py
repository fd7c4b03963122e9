"""Issue 7: architecture diagrams (DOT text, clusters, labels, rendering, CLI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import specdsl
from specdsl.cli import main
from specdsl.diagram import FAMILY_STYLES, diagram, human_count, human_flops, render, save
from specdsl.diagram.costs import block_costs
from specdsl.diagram.labels import cost_text, key_args, layer_table
from specdsl.diagram.output import missing_dot_message
from specdsl.diagram.tree import Cluster, Leaf, collapsed, expanded, leaves
from specdsl.graph import blocks, to_graph
from specdsl.schema.spec import LayerSpec, RepeatSpec, count_blocks, expand

ROOT = Path(__file__).resolve().parents[1]
HYBRID = ROOT / "architectures" / "hybrid.yaml"
BASE = "hidden_dim: 32\nmax_sequence_length: 64\n"
PATTERN = BASE + "layers: repeat 6 [fourier, lst(dct)]\n"
NESTED = BASE + "layers: fourier, repeat 2 [attention, repeat 3 [lst(hadamard), fourier]], lst\n"
MISSING_DOT = (
    "specdsl: error: rendering .svg needs the Graphviz 'dot' program: "
    "install Graphviz (Debian: apt-get install graphviz) or write .dot"
)


def block_nodes(source: str) -> list[str]:
    return re.findall(r"^\s*(block\d+) \[", source, flags=re.MULTILINE)


def cluster_count(source: str) -> int:
    return source.count("subgraph cluster")


def valid_architectures() -> list[Path]:
    """Every spec in architectures/ that validates now (others are still being written)."""
    found = []
    for path in sorted((ROOT / "architectures").iterdir()):
        if path.suffix not in (".yaml", ".yml", ".sdsl"):
            continue
        try:
            specdsl.parse(path)
        except specdsl.SpecError:
            continue
        found.append(path)
    return found


def fake_estimate(params: int = 789_000, flops: int = 1_230_000_000) -> types.ModuleType:
    """A stand-in ``specdsl.estimate`` module with the documented result shape."""
    module = types.ModuleType("specdsl.estimate")

    def estimate(
        spec: Any, batch_size: int = 1, seq_len: int | None = None, *, expand: bool = False
    ) -> dict[str, Any]:
        assert (batch_size, seq_len) == (1, spec.max_sequence_length)
        n = count_blocks(spec.layers)
        rows = [{"index": i, "params": params, "flops": flops} for i in range(n)]
        parts = [{"type": "embedding", "params": 7_680_000, "flops": 0}]
        return {"params": params * n + 1, "flops": flops * n, "layers": rows, "parts": parts}

    module.estimate = estimate  # type: ignore[attr-defined]
    return module


# --- structure: collapsed and expanded views ------------------------------------------


def test_collapsed_repeat_is_one_cluster_with_one_period() -> None:
    source = diagram(PATTERN).source
    assert cluster_count(source) == 1
    assert "<B>x6</B>" in source
    assert block_nodes(source) == ["block0", "block1"]
    assert "blocks 0–11" in source
    assert "block1 -> block0" in source  # the dashed loop-back edge of the repeat


def test_expanded_draws_every_block_in_iteration_clusters() -> None:
    source = diagram(PATTERN, expand=True).source
    assert block_nodes(source) == [f"block{i}" for i in range(12)]
    assert cluster_count(source) == 6
    assert all(f"iteration {k}/6" in source for k in range(1, 7))
    assert "x6" not in source
    assert "block11 -> block0" not in source


def test_nested_repeats_give_nested_clusters() -> None:
    tree = collapsed(specdsl.parse(NESTED).layers)
    assert [leaf.index for leaf in leaves(tree)] == [0, 1, 2, 3, 15]
    outer = tree[1]
    assert isinstance(outer, Cluster) and (outer.title, outer.first, outer.stop) == ("x2", 1, 15)
    inner = outer.items[1]
    assert isinstance(inner, Cluster) and (inner.title, inner.first, inner.stop) == ("x3", 2, 8)
    source = diagram(NESTED).source
    assert cluster_count(source) == 2
    assert re.search(r"cluster_0 \{[^}]*subgraph cluster_1", source)  # x3 drawn inside x2
    assert cluster_count(diagram(NESTED, expand=True).source) == 2 + 2 * 3


def unroll(nodes: Any) -> list[tuple[int, int]]:
    """Replay a collapsed tree: ``(block index, index of the drawn block it repeats)``."""
    out: list[tuple[int, int]] = []
    for node in nodes:
        if isinstance(node, Leaf):
            out.append((node.index, node.index))
            continue
        period = (node.stop - node.first) // node.repeat
        inner = unroll(node.items)
        out += [(block + k * period, drawn) for k in range(node.repeat) for block, drawn in inner]
    return out


def _patterns() -> st.SearchStrategy[list[Any]]:
    layer = st.sampled_from(["fourier", "attention", "lst"]).map(lambda t: LayerSpec(type=t))
    items = st.recursive(
        layer,
        lambda inner: st.builds(
            lambda n, body: RepeatSpec(repeat=n, layers=body),
            st.integers(1, 3),
            st.lists(inner, min_size=1, max_size=3),
        ),
        max_leaves=6,
    )
    return st.lists(items, min_size=1, max_size=3)


@settings(max_examples=40, deadline=None)
@given(_patterns())
def test_collapsed_and_expanded_views_cover_the_blocks(items: list[Any]) -> None:
    flat = expand(items)
    replay = unroll(collapsed(items))
    assert [block for block, _ in replay] == list(range(len(flat)))
    assert all(flat[block][0] is flat[drawn][0] for block, drawn in replay)
    nodes = [{"index": i, "groups": groups} for i, (_, groups) in enumerate(flat)]
    assert [leaf.index for leaf in leaves(expanded(nodes))] == list(range(len(flat)))


def test_collapsed_leaves_are_the_first_iteration() -> None:
    spec = specdsl.parse(NESTED)
    types_by_index = [layer.type for layer, _ in expand(spec.layers)]
    drawn = [types_by_index[leaf.index] for leaf in leaves(collapsed(spec.layers))]
    assert drawn == ["fourier", "attention", "lst", "fourier", "lst"]


# --- labels, shapes, colours ------------------------------------------------------------


def test_edges_carry_tensor_shapes_and_stages_are_explicit() -> None:
    source = diagram(HYBRID).source
    assert 'input -> embedding [label="B x N"]' in source
    assert 'positional -> block0 [label="B x N x D"]' in source
    assert 'block1 -> final_norm [label="B x N x D"]' in source
    assert 'head -> output [label="B x C"]' in source
    assert "input_ids" in source and "V=30000" in source and "classification head" in source
    embeds = diagram(BASE + "layers: fourier\nhead: {type: none}\n").source
    assert "inputs_embeds" in embeds and "embedding [" not in embeds
    assert 'input -> positional [label="B x N x D"]' in embeds
    lm = diagram(BASE + "vocab_size: 50\nlayers: fourier\nhead: {type: lm}\n").source
    assert 'head -> output [label="B x N x V"]' in lm


def test_nodes_show_key_args_and_family_colours() -> None:
    spec = BASE + "defaults: {attention: {num_heads: 4}}\nlayers: attention, lst(dst), fourier\n"
    source = diagram(spec).source
    assert "num_heads=4" in source and "transform_type=dst" in source
    for index, family in enumerate(["attention", "lst", "fourier"]):
        colour = FAMILY_STYLES[family].colour
        assert re.search(rf'block{index} \[label=<.*fillcolor="{colour}"', source)
    legend = re.search(r"legend \[label=<(.*)> shape=plaintext", source)
    assert legend is not None
    assert all(name in legend.group(1) for name in ("attention-type", "(LST)", "Fourier-type"))
    assert len({style.colour for style in FAMILY_STYLES.values()}) == len(FAMILY_STYLES)


def test_key_args_prefer_the_validated_config_and_truncate() -> None:
    node = to_graph(specdsl.parse(BASE + "layers: lst(hadamard, dropout=0.25)\n")).nodes["block0"]
    assert key_args(node, {}) == ["transform_type=hadamard", "dropout=0.25"]
    many = {"type": "unknown", "args": {f"a{i}": i for i in range(6)}, "config": None}
    assert key_args(many, {}) == ["a0=0", "a1=1", "a2=2", "+3 more"]


def test_composite_blocks_show_their_children() -> None:
    spec = BASE + "layers: repeat 2 [multiscale(fourier, wavelet(db4), fusion=add), attention]\n"
    source = diagram(spec).source
    assert block_nodes(source) == ["block0", "block1"]
    composite = re.search(r"block0 \[label=<(.*)> fillcolor=\"(#\w+)\"", source)
    assert composite is not None and composite.group(2) == FAMILY_STYLES["block"].colour
    label = composite.group(1)
    assert "<B>multiscale</B>" in label and "fusion=add" in label and "wavelet=db4" in label
    for family in ("fourier", "wavelet"):
        assert f'BGCOLOR="{FAMILY_STYLES[family].colour}"' in label
    assert "(composite)" in source and "(wavelet)" not in source  # legend groups


def test_nested_composite_tables() -> None:
    leaf = {"type": "fourier", "family": "fourier", "args": {}, "config": None}
    inner = {"type": "parallel", "family": "block", "args": {}, "children": [leaf]}
    table = layer_table({"type": "cascade", "family": "block", "args": {}, "children": [inner]}, {})
    assert table.count("<TABLE") == 5  # cascade > row > parallel > row > fourier
    assert (
        table.index("<B>cascade</B>")
        < table.index("<B>parallel</B>")
        < table.index("<B>fourier</B>")
    )


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0"),
        (950, "950"),
        (999, "999"),
        (1_000, "1k"),
        (12_345, "12.3k"),
        (1_234_567, "1.2M"),
        (123_456_789, "123M"),
        (999_999, "1M"),
        (2_500_000_000, "2.5B"),
    ],
)
def test_human_count(count: int, text: str) -> None:
    assert human_count(count) == text


@pytest.mark.parametrize(
    ("flops", "text"),
    [
        (950, "950 FLOPs"),
        (3_400_000_000, "3.4 GFLOPs"),
        (12_000_000, "12 MFLOPs"),
        (5 * 10**15, "5 PFLOPs"),
    ],
)
def test_human_flops(flops: int, text: str) -> None:
    assert human_flops(flops) == text


def test_estimates_appear_in_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "specdsl.estimate", fake_estimate())
    source = diagram(PATTERN).source
    assert source.count("789k params · 1.2 GFLOPs") == 2  # each drawn block
    assert "9.5M params · 14.8 GFLOPs" in source  # the x6 cluster: 12 blocks
    assert "9.5M params · 14.8 GFLOPs at N=64, batch 1" in source  # the title: totals
    assert "params" not in diagram(PATTERN, estimates=False).source


def test_labels_show_the_estimate_at_max_sequence_length() -> None:
    est = specdsl.estimate(HYBRID)
    assert est.seq_len == 1024 and len(est.layers) == 2
    collapsed_view, expanded_view = diagram(HYBRID).source, diagram(HYBRID, expand=True).source
    for row in est.layers:
        assert collapsed_view.count(cost_text(row.params, row.flops)) == 1
        assert expanded_view.count(cost_text(row.params, row.flops)) == row.count == 6
    assert f"{cost_text(est.params, est.flops)} at N=1024, batch 1" in collapsed_view
    embedding = next(part for part in est.parts if part.type == "embedding")
    assert cost_text(embedding.params, embedding.flops) in collapsed_view


def test_without_an_estimate_module_labels_have_no_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "specdsl.estimate", None)
    spec = specdsl.parse(PATTERN)
    assert block_costs(spec) is None
    assert "params" not in diagram(spec).source


def test_bad_spec_is_a_spec_error() -> None:
    with pytest.raises(specdsl.SpecError, match="fourir"):
        diagram(BASE + "layers: fourir\n")


def test_specdsl_diagram_is_callable_and_needs_no_torch() -> None:
    code = (
        "import sys, specdsl, specdsl.diagram\n"
        f"dot = specdsl.diagram({PATTERN!r})\n"
        "assert type(dot).__name__ == 'Digraph', type(dot)\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


# --- output formats ---------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(valid_architectures(), key=str), ids=lambda p: p.name)
def test_every_architecture_renders_to_svg(path: Path, tmp_path: Path) -> None:
    for expand_all in (False, True):
        out = render(path, tmp_path / "out.svg", expand=expand_all)
        text = out.read_text()
        assert text.lstrip().startswith("<?xml") and "<svg" in text
        assert "legend" in text


def test_hybrid_is_among_the_rendered_architectures() -> None:
    assert HYBRID in valid_architectures()


def svg_texts(svg: str) -> set[str]:
    """The text shown in an SVG (independent of the Graphviz version's layout)."""
    root = ElementTree.fromstring(svg)
    return {"".join(el.itertext()).strip() for el in root.iter("{http://www.w3.org/2000/svg}text")}


def test_docs_picture_is_hybrid_as_drawn_now(tmp_path: Path) -> None:
    committed = svg_texts((ROOT / "docs" / "hybrid.svg").read_text(encoding="utf-8"))
    current = svg_texts(render(HYBRID, tmp_path / "h.svg", estimates=False).read_text())
    assert {"x6", "fourier", "lst", "transform_type=dct", "legend"} <= current
    missing = current - committed
    assert not missing, f"re-render: specdsl diagram {HYBRID} -o docs/hybrid.svg ({missing})"


def test_dot_output_needs_no_graphviz_but_images_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dot = diagram(PATTERN)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` program reachable
    assert save(dot, tmp_path / "a.dot").read_text() == dot.source
    assert save(dot, tmp_path / "a.gv").read_text() == dot.source
    with pytest.raises(RuntimeError) as err:
        save(dot, tmp_path / "a.svg")
    assert f"specdsl: error: {err.value}" == MISSING_DOT
    assert str(err.value) == missing_dot_message("svg")
    assert not (tmp_path / "a.svg").exists()


@pytest.mark.parametrize("suffix", ["png", "pdf"])
def test_images_render(suffix: str, tmp_path: Path) -> None:
    data = save(diagram(PATTERN), tmp_path / f"a.{suffix}").read_bytes()
    assert data.startswith(b"\x89PNG" if suffix == "png" else b"%PDF")


def test_unknown_extension_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.dot, \.gv, \.svg, \.png, \.pdf"):
        render(PATTERN, tmp_path / "a.jpg")


def test_200_blocks_collapsed_render_fast(tmp_path: Path) -> None:
    spec = specdsl.parse(BASE + "layers: repeat 100 [fourier, lst(dct)]\n")
    start = time.perf_counter()
    dot = diagram(spec)
    save(dot, tmp_path / "big.dot")
    save(dot, tmp_path / "big.svg")
    elapsed = time.perf_counter() - start
    assert len(blocks(to_graph(spec))) == 200
    assert block_nodes(dot.source) == ["block0", "block1"]
    assert elapsed < 2.0, f"collapsed 200-block diagram took {elapsed:.2f} s"


def test_huge_repeats_draw_collapsed_and_refuse_to_expand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    huge = BASE + "layers: repeat 1000000 [fourier, repeat 3 [lst(dct)]]\n"
    start = time.perf_counter()
    source = diagram(huge).source
    assert time.perf_counter() - start < 2.0
    assert block_nodes(source) == ["block0", "block1"] and "blocks 0–3999999" in source
    with pytest.raises(ValueError, match=r"at most 2,000; this model has 4,000,000"):
        diagram(huge, expand=True)
    assert main(["diagram", huge, "--expand"]) == 1
    assert "specdsl: error: expand draws every block" in capsys.readouterr().err


# --- command line -----------------------------------------------------------------------


def test_cli_writes_svg_and_dot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(HYBRID), "-o", str(tmp_path / "h.svg")]) == 0
    assert "<svg" in (tmp_path / "h.svg").read_text()
    assert main(["diagram", str(HYBRID), "--expand", "-o", str(tmp_path / "h.dot")]) == 0
    assert len(block_nodes((tmp_path / "h.dot").read_text())) == 12
    capsys.readouterr()
    assert main(["diagram", str(HYBRID), "--set", "hidden_dim=64"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph hybrid {") and "D=64" in out


def test_cli_unknown_extension_is_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diagram", str(HYBRID), "-o", str(tmp_path / "h.jpg")]) == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "the extension must be one of .dot" in err
    assert not (tmp_path / "h.jpg").exists()


def test_cli_invalid_spec_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hidden_dim: 32\nlayers: fourir\n")
    assert main(["diagram", str(bad)]) == 1
    assert "bad.yaml:2:" in capsys.readouterr().err


def test_cli_without_dot_program_says_how_to_fix(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # python is reached through sys.executable
    command = [sys.executable, "-m", "specdsl", "diagram", str(HYBRID), "-o"]
    result = subprocess.run(
        [*command, str(tmp_path / "h.svg")], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip() == MISSING_DOT
    result = subprocess.run(
        [*command, str(tmp_path / "h.dot")], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "h.dot").read_text().startswith("digraph hybrid {")
