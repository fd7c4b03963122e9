"""Spec -> networkx graph: one node per stage, repeats expanded and remembered as groups."""

from __future__ import annotations

from typing import Any

import networkx as nx

from specdsl.library import REGISTRY
from specdsl.schema.resolve import block_options, resolve_config
from specdsl.schema.spec import LayerSpec, Spec, expand

ADDITIVE_POSITIONS = ("sinusoidal", "learned")


def _layer_node(spec: Spec, layer: LayerSpec) -> dict[str, Any]:
    entry = REGISTRY[layer.type]
    data: dict[str, Any] = {
        "type": layer.type,
        "family": entry.family,
        "args": dict(layer.args),
        "config": resolve_config(spec, layer),
    }
    if entry.kind == "block":
        data["children"] = [_layer_node(spec, child) for child in layer.layers]
    return data


def to_graph(spec: Spec) -> nx.DiGraph:
    """Build the architecture graph of a validated spec.

    Nodes, in order: ``input``, ``embedding`` (when ``vocab_size`` is set),
    ``positional`` (additive encodings), ``block0`` ... ``block{L-1}``, ``final_norm``,
    ``head``. Block nodes carry ``type``, ``family``, ``args`` (as written),
    ``config`` (the validated layer config), ``options`` (block options), ``index`` and
    ``groups`` (the ``(repeat_id, iteration)`` pairs it was expanded from). Edges carry
    the tensor shape as text, e.g. ``"B x N x D"``.
    """
    graph = nx.DiGraph(name=spec.name, spec=spec)
    hidden = "B x N x D"
    tokens = spec.vocab_size is not None
    graph.add_node("input", kind="input", type="input_ids" if tokens else "inputs_embeds")
    previous, shape = "input", "B x N" if tokens else hidden

    def chain(node: str, **data: Any) -> None:
        nonlocal previous, shape
        graph.add_node(node, **data)
        graph.add_edge(previous, node, shape=shape)
        previous, shape = node, hidden

    if tokens:
        chain("embedding", kind="embedding", type="embedding", vocab_size=spec.vocab_size)
    if spec.positional_encoding in ADDITIVE_POSITIONS:
        chain("positional", kind="positional", type=spec.positional_encoding)
    for index, (layer, groups) in enumerate(expand(spec.layers)):
        node = _layer_node(spec, layer)
        chain(
            f"block{index}",
            kind="block",
            index=index,
            groups=groups,
            options=block_options(spec, layer),
            **node,
        )
    chain("final_norm", kind="norm", type="layer_norm")
    head = spec.head
    chain("head", kind="head", type=head.type, head=head)
    graph.add_node("output", kind="output", type="output")
    graph.add_edge(previous, "output", shape=_output_shape(spec))
    return graph


def _output_shape(spec: Spec) -> str:
    head = spec.head.type
    if head in ("classification", "regression"):
        return "B x C"
    if head == "sequence":
        return "B x N x C"
    if head == "lm":
        return "B x N x V"
    return "B x N x D"


def blocks(graph: nx.DiGraph) -> list[dict[str, Any]]:
    """The block nodes' data, in order."""
    nodes = [data for _, data in graph.nodes(data=True) if data.get("kind") == "block"]
    return sorted(nodes, key=lambda data: data["index"])
