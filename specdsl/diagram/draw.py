"""Assemble the ``graphviz.Digraph``: stages, block nodes, clusters, shape-labelled edges."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import graphviz
import networkx as nx

from specdsl.diagram.costs import Costs, Figures, block_costs
from specdsl.diagram.labels import (
    MUTED,
    STAGE_COLOUR,
    cost_text,
    family_style,
    html,
    layer_table,
    legend_table,
    text_table,
)
from specdsl.diagram.tree import Cluster, Leaf, Node, collapsed, expanded, leaves, one_period
from specdsl.graph import blocks, to_graph
from specdsl.schema.spec import Spec, count_blocks

FONT = "Helvetica"
GRAPH_ATTR = {
    "rankdir": "TB",
    "fontname": FONT,
    "labelloc": "t",
    "nodesep": "0.3",
    "ranksep": "0.3",
}
NODE_ATTR = {
    "fontname": FONT,
    "fontsize": "11",
    "shape": "box",
    "style": "rounded,filled",
    "margin": "0.08,0.04",
}
EDGE_ATTR = {
    "fontname": FONT,
    "fontsize": "9",
    "fontcolor": MUTED,
    "color": "#777777",
    "arrowsize": "0.6",
}
STAGES_BEFORE = ("input", "embedding", "positional")
STAGES_AFTER = ("final_norm", "head", "output")
OUTPUT_NAMES = {
    "classification": "class logits",
    "regression": "regression outputs",
    "sequence": "per-token logits",
    "lm": "next-token logits",
    "none": "hidden states",
}


#: Most blocks the expanded view draws (Graphviz lays out larger graphs slowly).
EXPAND_LIMIT = 2_000


def build(spec: Spec, *, expand: bool, estimates: bool) -> graphviz.Digraph:
    """The diagram of ``spec`` (see :func:`specdsl.diagram`)."""
    num_blocks = count_blocks(spec.layers)
    if expand and num_blocks > EXPAND_LIMIT:
        raise ValueError(
            f"expand draws every block, at most {EXPAND_LIMIT:,}; this model has "
            f"{num_blocks:,} (draw it collapsed)"
        )
    costs = block_costs(spec, expand=expand) if estimates else None
    graph, tree = _structure(spec, expand)
    # drawn node id (block{index}) -> its node in ``graph``
    names = {f"block{leaf.index}": f"block{k}" for k, leaf in enumerate(leaves(tree))}
    dot = graphviz.Digraph(
        name=spec.name, graph_attr=GRAPH_ATTR, node_attr=NODE_ATTR, edge_attr=EDGE_ATTR
    )
    dot.attr(label=html(_title(spec, num_blocks, costs)))
    before = [name for name in STAGES_BEFORE if name in graph]
    for name in before:
        _stage(dot, name, spec, graph, costs)
    scene = _Scene(spec, graph, names, costs, expand)
    counter = itertools.count()
    for node in tree:
        scene.draw(dot, node, counter)
    for name in STAGES_AFTER:
        _stage(dot, name, spec, graph, costs)
    for source, target in itertools.pairwise([*before, *names, *STAGES_AFTER]):
        dot.edge(source, target, label=_shape_into(graph, names.get(target, target)))
    _loop_back(dot, tree)
    families = [family for name in names.values() for family in _families(graph.nodes[name])]
    dot.node("legend", label=html(legend_table(families)), shape="plaintext", style="")
    return dot


def _structure(spec: Spec, expand: bool) -> tuple[nx.DiGraph, list[Node]]:
    """The architecture graph and what to draw of it.

    The collapsed view builds the graph of one period only (every repeat count set to
    1), so its cost does not grow with the repeat counts.
    """
    if expand:
        graph = to_graph(spec)
        return graph, expanded(blocks(graph))
    graph = to_graph(spec.model_copy(update={"layers": one_period(spec.layers)}))
    return graph, collapsed(spec.layers)


def _loop_back(dot: graphviz.Digraph, tree: Sequence[Node]) -> None:
    """A dashed edge from the end of every repeated period back to its start."""
    for cluster in _clusters(tree):
        if cluster.repeat is not None and cluster.repeat > 1:
            period = list(leaves(cluster.items))
            dot.edge(
                f"block{period[-1].index}",
                f"block{period[0].index}",
                style="dashed",
                constraint="false",
                tooltip=f"repeated {cluster.repeat} times",
            )


def _shape_into(graph: nx.DiGraph, target: str) -> str:
    """The tensor shape on the graph's (single) edge into ``target``."""
    (attrs,) = graph.pred[target].values()
    return str(attrs["shape"])


def _families(layer: Mapping[str, Any]) -> Iterator[str]:
    yield layer["family"]
    for child in layer.get("children") or []:
        yield from _families(child)


def _clusters(nodes: Sequence[Node]) -> Iterator[Cluster]:
    for node in nodes:
        if isinstance(node, Cluster):
            yield node
            yield from _clusters(node.items)


@dataclass(frozen=True)
class _Scene:
    """What drawing one block or cluster needs."""

    spec: Spec
    graph: nx.DiGraph
    names: dict[str, str]  # drawn node id -> graph node
    costs: Costs | None
    expand: bool

    def draw(self, parent: graphviz.Digraph, node: Node, counter: Iterator[int]) -> None:
        """Draw ``node`` (a block, or a cluster and its contents) into ``parent``."""
        if isinstance(node, Leaf):
            name = f"block{node.index}"
            data = self.graph.nodes[self.names[name]]
            extra = [f"block {node.index}"] if self.expand else []
            if self.costs is not None and node.index in self.costs.blocks:
                extra.append(cost_text(*self.costs.blocks[node.index]))
            label = html(layer_table(data, self.spec.defaults, extra))
            parent.node(name, label=label, fillcolor=family_style(data["family"]).colour)
            return
        if node.repeat is None:
            title = text_table(node.title)
        else:
            span = node.stop - node.first
            lines = [f"blocks {node.first}–{node.stop - 1}" if span > 1 else f"block {node.first}"]
            if self.costs is not None:
                lines.append(cost_text(*self._total(node)))
            title = text_table(node.title, *lines)
        with parent.subgraph(name=f"cluster_{next(counter)}") as sub:
            sub.attr(
                label=html(title),
                style="rounded" if node.repeat is not None else "rounded,dashed",
                color=MUTED,
                fontname=FONT,
                fontsize="12",
                labeljust="l",
            )
            for item in node.items:
                self.draw(sub, item, counter)

    def _total(self, node: Node) -> Figures:
        """Summed figures of every block a collapsed ``node`` stands for."""
        assert self.costs is not None
        if isinstance(node, Leaf):
            return self.costs.blocks.get(node.index, (0, 0))
        parts = [self._total(item) for item in node.items]
        times = node.repeat or 1
        return times * sum(p for p, _ in parts), times * sum(f for _, f in parts)


def _stage(
    dot: graphviz.Digraph, name: str, spec: Spec, graph: nx.DiGraph, costs: Costs | None
) -> None:
    """Draw a non-block node: input, embedding, positional, final norm, head or output."""
    data = graph.nodes[name]
    d = spec.hidden_dim
    head = spec.head
    classes = f"C={head.num_classes}" if head.num_classes is not None else ""
    labels: dict[str, tuple[str, ...]] = {
        "input": (
            data["type"],
            "token ids" if data["type"] == "input_ids" else f"embeddings, D={d}",
        ),
        "embedding": ("token embedding", f"V={spec.vocab_size} → D={d}"),
        "positional": (f"{data['type']} positions", "added to the embeddings"),
        "final_norm": ("LayerNorm", "final norm"),
        "head": (f"{head.type} head", _head_detail(spec)),
        "output": (
            OUTPUT_NAMES[head.type],
            classes if head.type != "lm" else f"V={spec.vocab_size}",
        ),
    }
    lines = labels[name]
    if costs is not None and name in costs.parts:
        lines = (*lines, cost_text(*costs.parts[name]))
    shape = "oval" if name in ("input", "output") else "box"
    dot.node(name, label=html(text_table(*lines)), shape=shape, fillcolor=STAGE_COLOUR)


def _head_detail(spec: Spec) -> str:
    head = spec.head
    if head.type in ("classification", "regression"):
        return f"{head.pooling} pooling → C={head.num_classes}"
    if head.type == "sequence":
        return f"per token → C={head.num_classes}"
    if head.type == "lm":
        return (
            "tied to the embedding"
            if head.tie_weights
            else f"D={spec.hidden_dim} → V={spec.vocab_size}"
        )
    return "identity"


def _title(spec: Spec, num_blocks: int, costs: Costs | None) -> str:
    facts = [f"{num_blocks:,} blocks", f"D={spec.hidden_dim}", f"N≤{spec.max_sequence_length}"]
    if spec.positional_encoding in ("rotary", "alibi"):
        facts.append(f"{spec.positional_encoding} positions")
    if spec.causal:
        facts.append("causal")
    lines = [" · ".join(facts)]
    if costs is not None:
        lines.append(f"{cost_text(costs.params, costs.flops)} at N={costs.seq_len}, batch 1")
    return text_table(spec.name, *lines)
