"""Linear spectral transform (LST) attention: schema and cost formula."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from specdsl.library.attention import AttentionLayerConfig
from specdsl.library.base import Cost, Dims, fft_flops, linear_cost, log2, register_layer

LSTType = Literal["dct", "dst", "hadamard", "mixed"]


def transform_flops(kind: str, n: int) -> int:
    """FLOPs of one length-``n`` transform (docs/estimates.md).

    DCT/DST: one real FFT of length n (Makhoul) plus ``6 n`` for reordering and twiddles;
    Walsh-Hadamard: ``n log2 n`` additions at the next power of two.
    """
    if kind == "hadamard":
        padded = 1 << max(0, (n - 1).bit_length())
        return round(padded * log2(padded))
    return fft_flops(n, real=True) + 6 * n


def padded_length(kind: str, n: int) -> int:
    return 1 << max(0, (n - 1).bit_length()) if kind == "hadamard" else n


@register_layer(
    "lst",
    module="specdsl.library.lst.modules:LSTAttention",
    family="lst",
    positional=("transform_type",),
    math="y = W_o T^-1(T(q) * T(k) * T(v) * scale), T = DCT | DST | Hadamard over the sequence",
    reference="Lee-Thorp et al. 2022 (FNet); Tay et al. 2021 (Long Range Arena)",
)
class LSTAttentionConfig(AttentionLayerConfig):
    """Linear spectral transform attention: products in a DCT/DST/Hadamard domain."""

    transform_type: LSTType = "dct"
    learnable_scale: bool = True
    normalize: bool = True
    use_bias: bool = True

    def cost(self, dims: Dims) -> Cost:
        d = dims.hidden_dim
        n = dims.seq_len
        columns = dims.batch * d  # one transform per (batch, channel) along the sequence
        kinds = ["dct", "dst", "hadamard"] if self.transform_type == "mixed" else [self.transform_type]
        per_column = sum(transform_flops(k, n) for k in kinds) / len(kinds)
        m = max(padded_length(k, n) for k in kinds)
        mixing = Cost(
            other_flops=round(4 * columns * per_column) + 3 * dims.batch * m * d,
            activation_bytes=7 * dims.batch * m * d * dims.dtype_bytes,
            complexity="O(n log n)",
        )
        scale = Cost(params=self.num_heads * self.head_dim if self.learnable_scale else 0)
        qkv = linear_cost(dims, d, 3 * d, bias=self.use_bias)
        out = linear_cost(dims, d, d, bias=self.use_bias)
        return qkv + mixing + scale + out


__all__ = ["LSTAttentionConfig"]
