"""Linear spectral transform (LST) attention family: schemas and cost formulas (no torch).

Every layer here computes, per head and along the sequence,
``y = T^-1(T(q) * T(k) * T(v) * scale)`` with ``T`` one of DCT-II, DST-II, the
Walsh-Hadamard transform (zero-padded to a power of two, then cropped) or the real FFT,
followed by the output projection. Heads are split into contiguous groups, one transform
each. With ``causal=true`` output ``t`` is the same formula evaluated with every position
after ``t`` treated as padding (see docs/layers/attention_family.md): ``O(n^2)``.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from specdsl.library.attention import AttentionLayerConfig, projections_cost
from specdsl.library.base import Cost, Dims, fft_flops, register_layer
from specdsl.library.blocks import dropout_cost
from specdsl.library.lst._plan import plan_passes

LSTType = Literal["dct", "dst", "hadamard", "mixed"]
TRANSFORMS = ("dct", "dst", "hadamard", "fft")  # the per-head transform kinds


def padded_length(kind: str, n: int) -> int:
    """Length the transform runs at: the next power of two for Hadamard, else ``n``."""
    return 1 << max(0, (n - 1).bit_length()) if kind == "hadamard" else n


def spectrum_length(kind: str, n: int) -> int:
    """Number of transform coefficients: ``n // 2 + 1`` complex bins for the real FFT."""
    return n // 2 + 1 if kind == "fft" else padded_length(kind, n)


def split_heads(kinds: tuple[str, ...], num_heads: int) -> list[tuple[str, int]]:
    """Contiguous head groups ``[(kind, count), ...]``, counts as even as possible.

    The first ``num_heads % len(kinds)`` kinds get one extra head.
    """
    share, extra = divmod(num_heads, len(kinds))
    groups = [(kind, share + (i < extra)) for i, kind in enumerate(kinds)]
    return [(kind, count) for kind, count in groups if count]


def hadamard_radices(m: int, max_bits: int = 5) -> tuple[int, ...]:
    """Kronecker factors ``(r1, r2, ...)`` of ``H_m``, each at most ``2^max_bits``.

    ``m`` is a power of two; ``ceil(log2(m) / max_bits)`` factors, their exponents as even
    as possible (the first ones get the remainder). ``()`` for ``m = 1``.
    """
    bits = max(m.bit_length() - 1, 0)
    stages = -(-bits // max_bits)
    if not stages:
        return ()
    base, extra = divmod(bits, stages)
    return tuple(1 << (base + (i < extra)) for i in range(stages))


def transform_flops(kind: str, n: int) -> float:
    """Element-wise FLOPs of one forward or inverse transform of a length-``n`` column.

    DCT/DST (Makhoul): one real FFT of length n, ``2.5 n log2 n``, plus ``6 n`` for the
    reordering and complex twiddle; real FFT / inverse real FFT: ``2.5 n log2 n``;
    Walsh-Hadamard: none (its work is matrix products, :func:`transform_matmul_flops`).
    """
    if kind == "hadamard":
        return 0
    if kind == "fft":
        return fft_flops(n, real=True)
    return fft_flops(n, real=True) + 6 * n


def transform_matmul_flops(kind: str, n: int) -> int:
    """Matrix-product FLOPs of one transform of a column: ``2 m (r1 + r2 + ...)`` for the
    Walsh-Hadamard transform at ``m = next_pow2(n)`` (one small product per Kronecker
    factor, :func:`hadamard_radices`), 0 for the FFT-based ones."""
    if kind != "hadamard":
        return 0
    m = padded_length(kind, n)
    return 2 * m * sum(hadamard_radices(m))


def causal_chunk(n: int) -> int:
    """Rows per chunk of the causal product: ``ceil(sqrt(n))`` (the loop runs ``sqrt(n)``
    times, the live working set is ``O(sqrt(n) s)`` per column)."""
    return math.isqrt(n - 1) + 1 if n > 1 else 1


def column_flops(kind: str, n: int, causal: bool) -> float:
    """Element-wise and transform FLOPs of one (batch, channel) column of one head.

    Non-causal: 3 forward + 1 inverse transform, and two spectral products
    (``2 s`` real, ``12 s`` for complex bins, ``s`` = spectrum length).
    Causal (prefix operator, ``s x n`` per column): real ``10 n s`` = building ``T[f, i] x_i``
    for q, k, v (``3 n s``), their prefix sums (``3 n s``), the triple product (``2 n s``)
    and the contraction with ``T^-1`` (``2 n s``); complex (FFT) ``32 n s`` for the same
    steps in complex arithmetic (``6 + 6 + 12 + 6 + 2``).
    DST heads add ``4 n``: the ``(-1)^i`` modulation of q, k, v and of the output.
    """
    s = spectrum_length(kind, n)
    work: float
    if causal:
        work = (32 if kind == "fft" else 10) * n * s
    else:
        work = 4 * transform_flops(kind, n) + (12 if kind == "fft" else 2) * s
    return work + (4 * n if kind == "dst" else 0)


def causal_kept(kind: str, n: int) -> int:
    """Numbers the causal product keeps per column: q, k, v and the prefix sums over the
    whole sequence (``3 n + 3 s``, complex sums counting twice for the FFT)."""
    return 3 * n + 3 * spectrum_length(kind, n) * (2 if kind == "fft" else 1)


def grouped_kept(dims: Dims, groups: list[tuple[str, int]], head_dim: int, heads: int) -> int:
    """Numbers the non-causal layer keeps beyond :func:`projections_cost`'s two inputs.

    The transforms run under activation checkpointing (their spectra are recomputed in
    backward), so per pass (:func:`specdsl.library.lst._plan.plan_passes`) only its
    q, k, v are kept (``3 n`` per column), and its projection rows when they are a copy of
    ``W_qkv`` (``3 c D``); plus the tokens in Makhoul order when the natural ones are kept
    as well (``B n D``).
    """
    b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
    passes = plan_passes(tuple(groups), n)
    kept = (len({plan.makhoul for plan in passes}) - 1) * b * n * d
    for plan in passes:
        width = (plan.stop - plan.start) * head_dim
        kept += b * width * 3 * n + (3 * width * d if plan.copies_weights(heads) else 0)
    return kept


def transform_attention_cost(
    dims: Dims,
    groups: list[tuple[str, int]],
    head_dim: int,
    learnable_scale: bool,
    use_bias: bool,
    causal: bool,
    dropout: float = 0.0,
) -> Cost:
    """Cost of an LST-type layer whose heads are split into ``groups`` of transforms.

    ``activation_bytes``: the projections' inputs (:func:`projections_cost`), then
    :func:`causal_kept` per column (causal) or :func:`grouped_kept`, ``W_o diag(scale)``
    (``D x D``) with a learnable scale, and the dropout mask (:func:`dropout_cost` on the
    mixed heads) when ``dropout > 0``.
    """
    b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
    heads = sum(count for _, count in groups)
    columns = [(kind, b * count * head_dim) for kind, count in groups]
    other = sum(cols * column_flops(kind, n, causal) for kind, cols in columns)
    # non-causal: 3 forward transforms and 1 inverse per column (causal: dense prefix sums)
    matmul = 0 if causal else sum(4 * cols * transform_matmul_flops(k, n) for k, cols in columns)
    if learnable_scale:
        other += b * n * d  # v * scale
    if causal:
        stored = sum(cols * causal_kept(kind, n) for kind, cols in columns)
    else:
        stored = grouped_kept(dims, groups, head_dim, heads)
    stored += d * heads * head_dim if learnable_scale else 0
    mixing = dropout_cost(dims, dropout, width=heads * head_dim) + Cost(
        params=d if learnable_scale else 0,
        matmul_flops=matmul,
        other_flops=round(other),
        activation_bytes=stored * dims.dtype_bytes,
        complexity="O(n^2)" if causal else "O(n log n)",
    )
    return projections_cost(dims, d, bias=use_bias) + mixing


class _TransformAttentionConfig(AttentionLayerConfig):
    """Shared by the LST family: ``causal`` and the cost from :meth:`head_groups`."""

    causal: bool = False

    def head_groups(self) -> list[tuple[str, int]]:
        raise NotImplementedError

    def uses_scale(self) -> bool:
        return bool(getattr(self, "learnable_scale", False))

    def uses_bias(self) -> bool:
        return bool(getattr(self, "use_bias", True))

    def cost(self, dims: Dims) -> Cost:
        return transform_attention_cost(
            dims,
            self.head_groups(),
            self.resolved_head_dim,
            self.uses_scale(),
            self.uses_bias(),
            self.causal,
            self.dropout,
        )


_LST_MATH = "y = W_o T^-1(T(q) * T(k) * T(v) * scale), T along the sequence per head"
_LST_REFERENCE = "Lee-Thorp et al. 2022 (FNet); Tay et al. 2021 (Long Range Arena)"


@register_layer(
    "lst",
    module="specdsl.library.lst.modules:LSTAttention",
    family="lst",
    positional=("transform_type",),
    math=_LST_MATH + ", T = DCT | DST | Hadamard | mixed over heads",
    reference=_LST_REFERENCE,
)
class LSTAttentionConfig(_TransformAttentionConfig):
    """Linear spectral transform attention: products in a DCT/DST/Hadamard domain."""

    transform_type: LSTType = "dct"
    learnable_scale: bool = True
    normalize: bool = True
    use_bias: bool = True

    @model_validator(mode="after")
    def _mixed_needs_heads(self) -> LSTAttentionConfig:
        if self.transform_type == "mixed" and self.num_heads < 3:
            raise ValueError(
                f"transform_type 'mixed' needs num_heads >= 3 (DCT, DST and Hadamard heads), "
                f"got {self.num_heads}"
            )
        return self

    def head_groups(self) -> list[tuple[str, int]]:
        kinds = (
            ("dct", "dst", "hadamard") if self.transform_type == "mixed" else (self.transform_type,)
        )
        return split_heads(kinds, self.num_heads)


@register_layer(
    "dct_attention",
    module="specdsl.library.lst.modules:DCTAttention",
    family="lst",
    math=_LST_MATH + ", T = orthonormal DCT-II",
    reference=_LST_REFERENCE,
)
class DCTAttentionConfig(_TransformAttentionConfig):
    """LST attention with the orthonormal DCT-II on every head."""

    dct_type: Literal[2] = 2
    learnable_scale: bool = True

    def head_groups(self) -> list[tuple[str, int]]:
        return [("dct", self.num_heads)]


@register_layer(
    "hadamard_attention",
    module="specdsl.library.lst.modules:HadamardAttention",
    family="lst",
    math=_LST_MATH + ", T = Walsh-Hadamard (zero-padded to a power of two)",
    reference=_LST_REFERENCE,
)
class HadamardAttentionConfig(_TransformAttentionConfig):
    """LST attention with the fast Walsh-Hadamard transform on every head."""

    scale_by_sqrt: bool = True
    learnable_scale: bool = True

    def head_groups(self) -> list[tuple[str, int]]:
        return [("hadamard", self.num_heads)]


@register_layer(
    "mixed_spectral_attention",
    module="specdsl.library.lst.modules:MixedSpectralAttention",
    family="lst",
    math=_LST_MATH + ", heads split among FFT, DCT and Hadamard",
    reference=_LST_REFERENCE,
)
class MixedTransformAttentionConfig(_TransformAttentionConfig):
    """Spectral-product attention with heads split among the FFT, DCT and Hadamard."""

    num_heads: int = Field(default=9, gt=0)
    use_fft: bool = True
    use_dct: bool = True
    use_hadamard: bool = True

    @model_validator(mode="after")
    def _some_transform(self) -> MixedTransformAttentionConfig:
        kinds = self.kinds()
        if not kinds:
            raise ValueError("enable at least one of use_fft, use_dct, use_hadamard")
        if self.num_heads < len(kinds):
            raise ValueError(
                f"num_heads ({self.num_heads}) must be at least the number of enabled "
                f"transforms ({len(kinds)})"
            )
        return self

    def kinds(self) -> tuple[str, ...]:
        flags = (("fft", self.use_fft), ("dct", self.use_dct), ("hadamard", self.use_hadamard))
        return tuple(kind for kind, on in flags if on)

    def head_groups(self) -> list[tuple[str, int]]:
        return split_heads(self.kinds(), self.num_heads)


__all__ = [
    "DCTAttentionConfig",
    "HadamardAttentionConfig",
    "LSTAttentionConfig",
    "MixedTransformAttentionConfig",
]
