"""Softmax multi-head attention: schema and cost formula."""

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
        if self.hidden_dim % self.num_heads:
            raise ValueError(
                f"hidden_dim ({self.hidden_dim}) must be divisible by num_heads ({self.num_heads})"
            )
        return self

    @property
    def head_dim(self) -> int:
        return self.hidden_dim // self.num_heads


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
        d = dims.hidden_dim
        qkv = linear_cost(dims, d, 3 * d)
        out = linear_cost(dims, d, d)
        n = dims.seq_len
        scores = Cost(
            matmul_flops=sdpa_flops(dims, self.num_heads, self.head_dim),
            other_flops=5 * dims.batch * self.num_heads * n * n,  # scale, softmax
            activation_bytes=4 * dims.batch * n * d * dims.dtype_bytes,  # q, k, v, output
            complexity="O(n^2)",
        )
        return qkv + scores + out


__all__ = ["AttentionLayerConfig", "StandardAttentionConfig"]
