"""Costs of the model-level parts around the blocks (no torch).

The embedding, the positional encodings, the dropout after them, the final LayerNorm and
every output head: each function returns the :class:`~specdsl.library.base.Cost` of the
module that ``specdsl/compiler/model.py`` and ``specdsl/compiler/heads.py`` build for it.
Block costs (norms, feed-forward, composites) live in :mod:`specdsl.library.blocks`, mixer
costs in each layer's ``cost`` method. Conventions: docs/estimates.md.
"""

from __future__ import annotations

from dataclasses import replace

from specdsl.library.base import Cost, Dims, linear_cost
from specdsl.library.blocks import dropout_cost, norm_cost
from specdsl.schema.spec import HeadSpec

#: FLOPs per rotated element of rotary embeddings: ``a cos - b sin`` (two products, one sum).
ROTARY_FLOPS = 3
#: Bytes of one token id (int64), kept by the embedding for its backward pass.
TOKEN_ID_BYTES = 8


def _tokens(dims: Dims) -> int:
    return dims.batch * dims.seq_len


def embedding_cost(dims: Dims, vocab_size: int | None) -> Cost:
    """``nn.Embedding(V, D)``: ``V D`` parameters, a gather (no FLOPs); keeps the token ids."""
    if vocab_size is None:
        return Cost(complexity="O(1)")
    return Cost(
        params=vocab_size * dims.hidden_dim,
        activation_bytes=_tokens(dims) * TOKEN_ID_BYTES,
        complexity="O(n)",
    )


def positional_cost(dims: Dims, kind: str, max_sequence_length: int) -> Cost:
    """An additive encoding (``sinusoidal``: fixed table, ``learned``: ``L D`` parameters).

    Adding the table costs one FLOP per element and keeps nothing for backward. Rotary and
    ALiBi act inside attention scores (:func:`score_position_cost`); ``none`` costs nothing.
    """
    if kind not in ("sinusoidal", "learned"):
        return Cost(complexity="O(1)")
    params = max_sequence_length * dims.hidden_dim if kind == "learned" else 0
    return Cost(params=params, other_flops=_tokens(dims) * dims.hidden_dim, complexity="O(n)")


def score_position_cost(dims: Dims, kind: str, num_heads: int) -> Cost:
    """Rotary or ALiBi applied by an attention layer to its own queries, keys or scores.

    Rotary rotates queries and keys: ``3`` FLOPs per element of each (its cos/sin tables
    are cached, not activations). ALiBi builds a ``(H, n, n)`` bias (one product per entry)
    and adds it to every score; the attention kernel keeps the bias for backward.
    """
    n, d = dims.seq_len, dims.hidden_dim
    if kind == "rotary":
        return Cost(other_flops=2 * ROTARY_FLOPS * _tokens(dims) * d, complexity="O(n)")
    if kind == "alibi":
        bias = num_heads * n * n
        return Cost(
            other_flops=bias + dims.batch * bias,
            activation_bytes=bias * dims.dtype_bytes,
            complexity="O(n^2)",
        )
    return Cost(complexity="O(1)")


def final_norm_cost(dims: Dims) -> Cost:
    """The LayerNorm after the last block (the same formula as every block norm)."""
    return norm_cost(dims)


def head_cost(dims: Dims, head: HeadSpec, vocab_size: int | None) -> Cost:
    """The output head on the final hidden states ``(B, N, D)``.

    ``classification``/``regression``: pooling, then ``Linear(D, C)`` on ``B`` rows.
    ``mean`` pooling sums ``N`` values per output (``B N D`` FLOPs) and keeps nothing;
    ``max`` compares as many and keeps its input and output; ``cls`` selects token 0, and
    the projection keeps that view, which holds the whole ``(B, N, D)`` storage.
    ``sequence``: ``Linear(D, C)`` per token; ``lm``: ``Linear(D, V, bias=False)`` per
    token, sharing the embedding matrix (no new parameters) with ``tie_weights``.
    """
    d, elements = dims.hidden_dim, _tokens(dims) * dims.hidden_dim
    if head.type in ("classification", "regression"):
        assert head.num_classes is not None  # validated by Spec
        rows = dims.batch
        project = linear_cost(dims, d, head.num_classes, tokens=rows)
        pooled = rows * d * dims.dtype_bytes  # counted by linear_cost
        if head.pooling == "cls":
            return project + Cost(activation_bytes=(elements * dims.dtype_bytes) - pooled)
        return project + Cost(
            other_flops=elements,
            activation_bytes=elements * dims.dtype_bytes if head.pooling == "max" else 0,
        )
    if head.type == "sequence":
        assert head.num_classes is not None
        return linear_cost(dims, d, head.num_classes)
    if head.type == "lm":
        assert vocab_size is not None
        project = linear_cost(dims, d, vocab_size, bias=False)
        if head.tie_weights:
            project = replace(project, params=0)
        return project
    return Cost(complexity="O(1)")


__all__ = [
    "dropout_cost",
    "embedding_cost",
    "final_norm_cost",
    "head_cost",
    "positional_cost",
    "score_position_cost",
]
