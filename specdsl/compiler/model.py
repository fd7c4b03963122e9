"""Graph -> ``CompiledModel``: a plain ``nn.Module`` wired from registry modules."""

from __future__ import annotations

from typing import Any, TypedDict

import networkx as nx
import torch
from torch import Tensor, nn

from specdsl.compiler.blocks import Block
from specdsl.compiler.heads import build_head
from specdsl.compiler.token_order import run_blocks
from specdsl.graph import blocks as block_nodes
from specdsl.graph import to_graph
from specdsl.library import REGISTRY
from specdsl.library.positions import LearnedPositional, SinusoidalPositional
from specdsl.schema.spec import Spec


def build_mixer(node: dict[str, Any], spec: Spec) -> nn.Module:
    """The torch module of one layer node (its class's ``from_config``)."""
    entry = REGISTRY[node["type"]]
    module = entry.load_module().from_config(node["config"])
    if spec.positional_encoding in entry.positions:
        module.positional = spec.positional_encoding
    return module


class _Width(TypedDict):
    """The block-level sizes every block constructor takes as keywords."""

    hidden_dim: int
    ffn_hidden_dim: int
    dropout: float
    norm_eps: float


def build_block(node: dict[str, Any], spec: Spec) -> nn.Module:
    """A whole block: the default pre-norm block, or a composite block's own module."""
    options = node["options"]
    width = _Width(
        hidden_dim=spec.hidden_dim,
        ffn_hidden_dim=options.ffn_hidden_dim or spec.ffn_dim,
        dropout=spec.dropout if options.dropout is None else options.dropout,
        norm_eps=options.norm_eps or spec.norm_eps,
    )
    entry = REGISTRY[node["type"]]
    if entry.kind == "block":
        mixers = [build_mixer(child, spec) for child in node["children"]]
        return entry.load_module().from_config(node["config"], mixers=mixers, **width)
    return Block(build_mixer(node, spec), **width)


class CompiledModel(nn.Module):
    """A model compiled from a spec.

    ``forward(input_ids=None, inputs_embeds=None, attention_mask=None)`` returns hidden
    states ``(B, N, D)``, pooled logits ``(B, C)`` or per-token logits, by ``spec.head``.
    Attributes: ``spec``, ``embedding`` (or None), ``positional``, ``blocks``
    (``nn.ModuleList``), ``final_norm``, ``output_head`` and the model-level fields.
    """

    def __init__(self, spec: Spec, graph: nx.DiGraph | None = None):
        super().__init__()
        graph = to_graph(spec) if graph is None else graph
        self.spec = spec
        self.hidden_dim = spec.hidden_dim
        self.num_layers = 0
        self.max_sequence_length = spec.max_sequence_length
        self.ffn_hidden_dim = spec.ffn_dim
        self.vocab_size = spec.vocab_size
        self.output_type = spec.head.type
        self.num_classes = spec.head.num_classes
        self.gradient_checkpointing = spec.gradient_checkpointing
        self.causal = spec.causal
        self.embedding = nn.Embedding(spec.vocab_size, spec.hidden_dim) if spec.vocab_size else None
        positional = {"sinusoidal": SinusoidalPositional, "learned": LearnedPositional}.get(
            spec.positional_encoding
        )
        self.positional = (
            positional(spec.hidden_dim, spec.max_sequence_length) if positional else None
        )
        self.dropout = nn.Dropout(spec.dropout)
        self.blocks = nn.ModuleList(build_block(node, spec) for node in block_nodes(graph))
        self.num_layers = len(self.blocks)
        self.final_norm = nn.LayerNorm(spec.hidden_dim, eps=spec.norm_eps)
        self.output_head = build_head(spec.head, spec.hidden_dim, spec.vocab_size)
        if spec.head.tie_weights and self.embedding is not None:
            self.output_head.get_submodule("proj").weight = self.embedding.weight

    def embed(self, input_ids: Tensor | None, inputs_embeds: Tensor | None) -> Tensor:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds")
        if input_ids is not None:
            if self.embedding is None:
                raise ValueError(
                    "this model has no vocabulary (vocab_size unset): pass inputs_embeds"
                )
            return self.embedding(input_ids)
        assert inputs_embeds is not None
        if inputs_embeds.dim() != 3 or inputs_embeds.shape[-1] != self.hidden_dim:
            raise ValueError(
                f"inputs_embeds must be (batch, seq_len, {self.hidden_dim}),"
                f" got {tuple(inputs_embeds.shape)}"
            )
        return inputs_embeds

    def forward(
        self,
        input_ids: Tensor | None = None,
        inputs_embeds: Tensor | None = None,
        attention_mask: Tensor | None = None,
    ) -> Tensor:
        x = self.embed(input_ids, inputs_embeds)
        n = x.shape[1]
        if n > self.max_sequence_length:
            raise ValueError(
                f"sequence length {n} exceeds max_sequence_length {self.max_sequence_length}"
            )
        mask = None
        if attention_mask is not None:
            if tuple(attention_mask.shape) != tuple(x.shape[:2]):
                raise ValueError(
                    f"attention_mask must have shape (batch, seq_len) = {tuple(x.shape[:2])},"
                    f" got {tuple(attention_mask.shape)}"
                )
            mask = attention_mask.to(torch.bool)
        if self.positional is not None:
            x = self.positional(x)
        x = self.dropout(x)
        x = run_blocks(self.blocks, x, mask, self.gradient_checkpointing and self.training)
        return self.output_head(self.final_norm(x), mask)
