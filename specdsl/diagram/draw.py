"""Assemble the ``graphviz.Digraph``: stages, block nodes, clusters, shape-labelled edges."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import graphviz
import networkx as nx

from specdsl.diagram.costs import Costs
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
from specdsl.diagram.tree import Cluster, Leaf, Node, collapsed, expanded, leaves
from specdsl.graph import blocks
from specdsl.schema.spec import Spec

FONT = "Helvetica"
GRAPH_ATTR = {"rankdir": "TB", "fontname": FONT, "labelloc": "t", "nodesep": "0.3", "ranksep": "0.3"}
NODE_ATTR = {"fontname": FONT, "fontsize": "11", "shape": "box", "style": "rounded,filled", "margin": "0.08,0.04"}
EDGE_ATTR = {"fontname": FONT, "fontsize": "9", "fontcolor": MUTED, "color": "#777777", "arrowsize": "0.6"}
STAGES_BEFORE = ("input", "embedding", "positional")
STAGES_AFTER = ("final_norm", "head", "output")
OUTPUT_NAMES = {
    "classification": "class logits",
    "regression": "regression outputs",
    "sequence": "per-token logits",
    "lm": "next-token logits",
    "none": "hidden states",
}


def build(spec: Spec, graph: nx.DiGraph, *, expand: bool, costs: Costs | None) -> graphviz.Digraph:
    """The diagram of ``spec`` from its architecture ``graph`` (see :func:`specdsl.diagram`)."""
    dot = graphviz.Digraph(
        name=spec.name, graph_attr=GRAPH_ATTR, node_attr=NODE_ATTR, edge_attr=EDGE_ATTR
    )
    dot.attr(label=html(_title(spec, graph, costs)))
    tree = expanded(blocks(graph)) if expand else collapsed(spec.layers)
    before = [name for name in STAGES_BEFORE if name in graph]
    for name in before:
        _stage(dot, name, spec, graph)
    counter = itertools.count()
    for node in tree:
        _draw(dot, node, spec, graph, costs, expand, counter)
    for name in STAGES_AFTER:
        _stage(dot, name, spec, graph)
    order = before + [f"block{leaf.index}" for leaf in leaves(tree)] + list(STAGES_AFTER)
    for source, target in itertools.pairwise(order):
        dot.edge(source, target, label=_shape_into(graph, target))
    for cluster in _clusters(tree):
        if cluster.repeat is not None:
            drawn = list(leaves(cluster.items))
            dot.edge(
                f"block{drawn[-1].index}",
                f"block{drawn[0].index}",
                style="dashed",
                constraint="false",
                tooltip=f"repeated {cluster.repeat} times",
            )
    families = [family for leaf in leaves(tree) for family in _families(graph.nodes[f"block{leaf.index}"])]
    dot.node("legend", label=html(legend_table(families)), shape="plaintext", style="")
    return dot


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


def _draw(
    dot: graphviz.Digraph,
    node: Node,
    spec: Spec,
    graph: nx.DiGraph,
    costs: Costs | None,
    expand: bool,
    counter: Iterator[int],
) -> None:
    if isinstance(node, Leaf):
        name = f"block{node.index}"
        data = graph.nodes[name]
        extra = [f"block {node.index}"] if expand else []
        if costs is not None and node.index in costs.blocks:
            extra.append(cost_text(*costs.blocks[node.index]))
        fill = family_style(data["family"]).colour
        dot.node(name, label=html(layer_table(data, spec.defaults, extra)), fillcolor=fill)
        return
    lines = [f"blocks {node.first}–{node.stop - 1}" if node.stop - node.first > 1 else f"block {node.first}"]
    if costs is not None and node.repeat is not None:
        lines.append(cost_text(*costs.span(node.first, node.stop)))
    title = text_table(node.title, *lines) if node.repeat is not None else text_table(node.title)
    with dot.subgraph(name=f"cluster_{next(counter)}") as sub:
        sub.attr(
            label=html(title),
            style="rounded,dashed" if node.repeat is None else "rounded",
            color=MUTED,
            fontname=FONT,
            labeljust="l",
            fontsize="12",
        )
        for item in node.items:
            _draw(sub, item, spec, graph, costs, expand, counter)


def _stage(dot: graphviz.Digraph, name: str, spec: Spec, graph: nx.DiGraph) -> None:
    """Draw a non-block node: input, embedding, positional, final norm, head or output."""
    data = graph.nodes[name]
    d = spec.hidden_dim
    head = spec.head
    classes = f"C={head.num_classes}" if head.num_classes is not None else ""
    labels: dict[str, tuple[str, ...]] = {
        "input": (data["type"], "token ids" if data["type"] == "input_ids" else f"embeddings, D={d}"),
        "embedding": ("token embedding", f"V={spec.vocab_size} → D={d}"),
        "positional": (f"{data['type']} positions", "added to the embeddings"),
        "final_norm": ("LayerNorm", "final norm"),
        "head": (f"{head.type} head", _head_detail(spec)),
        "output": (OUTPUT_NAMES[head.type], classes if head.type != "lm" else f"V={spec.vocab_size}"),
    }
    shape = "oval" if name in ("input", "output") else "box"
    dot.node(name, label=html(text_table(*labels[name])), shape=shape, fillcolor=STAGE_COLOUR)


def _head_detail(spec: Spec) -> str:
    head = spec.head
    if head.type in ("classification", "regression"):
        return f"{head.pooling} pooling → C={head.num_classes}"
    if head.type == "sequence":
        return f"per token → C={head.num_classes}"
    if head.type == "lm":
        return "tied to the embedding" if head.tie_weights else f"D={spec.hidden_dim} → V={spec.vocab_size}"
    return "identity"


def _title(spec: Spec, graph: nx.DiGraph, costs: Costs | None) -> str:
    count = sum(1 for _ in blocks(graph))
    facts = [f"{count} blocks", f"D={spec.hidden_dim}", f"N≤{spec.max_sequence_length}"]
    if spec.positional_encoding in ("rotary", "alibi"):
        facts.append(f"{spec.positional_encoding} positions")
    if spec.causal:
        facts.append("causal")
    lines = [" · ".join(facts)]
    if costs is not None:
        lines.append(f"{cost_text(costs.params, costs.flops)} at N={costs.seq_len}, batch 1")
    return text_table(spec.name, *lines)
