"""Softmax multi-head attention: schema and cost formula (no torch).

Also home of :class:`AttentionLayerConfig`, the fields every multi-head layer shares,
and of the projection cost every attention-type layer pays.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from specdsl.library.base import Cost, Dims, LayerConfig, linear_cost, register_layer


class AttentionLayerConfig(LayerConfig):
    """Fields shared by every multi-head layer; checks ``hidden_dim % num_heads == 0``."""

    hidden_dim: int = Field(gt=0)
    num_heads: int = Field(default=8, gt=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> AttentionLayerConfig:
        if self.hidden_dim % self.num_heads and self.explicit_head_dim() is None:
            raise ValueError(
                f"hidden_dim ({self.hidden_dim}) must be divisible by num_heads ({self.num_heads})"
            )
        return self

    def explicit_head_dim(self) -> int | None:
        """A head width set by the layer itself (None: ``hidden_dim // num_heads``)."""
        return None

    @property
    def resolved_head_dim(self) -> int:
        """Width of one head."""
        explicit = self.explicit_head_dim()
        return explicit if explicit is not None else self.hidden_dim // self.num_heads

    @property
    def inner_dim(self) -> int:
        """Width of the concatenated heads (``num_heads * head_dim``)."""
        return self.num_heads * self.resolved_head_dim


def projections_cost(dims: Dims, inner_dim: int, bias: bool = True) -> Cost:
    """The fused ``D -> 3 inner`` QKV projection plus the ``inner -> D`` output projection."""
    d = dims.hidden_dim
    return linear_cost(dims, d, 3 * inner_dim, bias=bias) + linear_cost(
        dims, inner_dim, d, bias=bias
    )


def sdpa_flops(dims: Dims, heads: int, head_dim: int) -> int:
    """Q K^T and A V of scaled-dot-product attention: ``4 B H n^2 d`` (full square)."""
    return 4 * dims.batch * heads * dims.seq_len * dims.seq_len * head_dim


@register_layer(
    "attention",
    module="specdsl.library.attention.modules:StandardAttention",
    family="attention",
    positional=("num_heads",),
    positions=("rotary", "alibi"),
    math="y = W_o softmax(Q K^T / sqrt(d) + bias) V",
    reference="Vaswani et al., Attention Is All You Need, NeurIPS 2017",
)
class StandardAttentionConfig(AttentionLayerConfig):
    """Standard softmax multi-head attention (scaled_dot_product_attention)."""

    causal: bool = False

    def cost(self, dims: Dims) -> Cost:
        """Projections plus ``scaled_dot_product_attention``.

        Kept for backward, besides the projections' inputs (the attention output is the
        output projection's input): without dropout, q, k, v (one storage) and the per-row
        softmax statistics (``B H n``); with dropout (training), PyTorch runs the explicit
        kernel, which keeps q, k, v plus three ``(B, H, n, n)`` tensors: the softmax, the
        dropout mask and the dropped weights.
        """
        b, n, h = dims.batch, dims.seq_len, self.num_heads
        qkv = 3 * b * n * self.inner_dim
        kept = qkv + (3 * b * h * n * n if self.dropout else b * h * n)
        scores = Cost(
            matmul_flops=sdpa_flops(dims, h, self.resolved_head_dim),
            # other_flops = 5 B H n^2: scale, mask/bias add, and softmax's max, exp, sum-divide
            # per score (docs/layers/attention_family.md); dropout adds its mask product.
            other_flops=(6 if self.dropout else 5) * b * h * n * n,
            activation_bytes=kept * dims.dtype_bytes,
            complexity="O(n^2)",
        )
        return projections_cost(dims, self.inner_dim) + scores


__all__ = ["AttentionLayerConfig", "StandardAttentionConfig"]
