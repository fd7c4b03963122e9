"""Random-feature and kernel (linear) attention: schemas and cost formulas (no torch).

Each layer computes, per head, ``(phi(q) (phi(k)^T v)) / (phi(q) phi(k)^T 1)`` with a
feature map ``phi`` of width ``F``: ``O(n F d)``, no ``n x n`` matrix. Queries and keys are
scaled by ``d^-1/4`` first, so the softmax kernel is that of ``softmax(q k^T / sqrt(d))``.
Causal layers run in chunks: masked scores within a chunk, prefix sums of the chunk
states ``phi(k)^T v`` across chunks (:func:`causal_chunk`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from specdsl.library.attention import AttentionLayerConfig, projections_cost
from specdsl.library.base import Cost, Dims, register_layer
from specdsl.library.blocks import dropout_cost

RandomKernel = Literal["softmax", "gaussian"]
SpectralKernelType = Literal["gaussian", "polynomial", "spectral"]

_REFERENCE = (
    "Choromanski et al., Rethinking Attention with Performers, ICLR 2021; "
    "Rahimi & Recht, Random Features for Large-Scale Kernel Machines, NeurIPS 2007"
)


@dataclass(frozen=True)
class FeatureShape:
    """The resolved feature map of a linear-attention layer.

    ``kernel``: ``softmax`` | ``relu`` | ``gaussian`` | ``polynomial`` | ``spectral``;
    ``random``: columns of the random projection ``omega`` (0 if none); ``rank``: width of
    the learned projection (0 if none); ``width``: width ``F`` of ``phi``.
    """

    kernel: str
    random: int
    rank: int
    width: int


def resolve_features(
    kernel: str, head_dim: int, num_features: int | None = None, rank: int | None = None
) -> FeatureShape:
    """Defaults and checks shared by configs and modules (raises ``ValueError``).

    Random-feature kernels (softmax, relu, gaussian) take ``num_features`` (default
    ``head_dim``) and no rank. ``polynomial``: ``((q P) . (k P) + 1)^2`` with ``P`` of
    rank ``r`` (default ``min(64, head_dim)``), exact features of width ``(r + 1)^2``, so
    no num_features. ``spectral``: ``exp(q^T V diag(lambda) V^T k)`` with a rank-``r``
    learned eigenbasis, estimated with ``num_features`` (default ``r``) positive random
    features.
    """
    for name, value in (("num_features", num_features), ("rank", rank)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if kernel in ("softmax", "relu", "gaussian"):
        if rank is not None:
            raise ValueError(f"rank applies to kernel_type polynomial or spectral, not {kernel}")
        m = num_features or head_dim
        return FeatureShape(kernel, m, 0, m)
    r = rank if rank is not None else min(64, head_dim)
    if r > head_dim:
        raise ValueError(f"rank must be in [1, head_dim={head_dim}], got {r}")
    if kernel == "polynomial":
        if num_features is not None:
            raise ValueError(
                "num_features does not apply to kernel_type polynomial: its features have "
                "width (rank + 1)^2; set rank instead"
            )
        return FeatureShape(kernel, 0, r, (r + 1) ** 2)
    if kernel != "spectral":
        raise ValueError(f"unknown kernel_type {kernel!r}")
    m = num_features or r
    return FeatureShape(kernel, m, r, m)


def _feature_map_cost(b: int, h: int, n: int, d: int, shape: FeatureShape) -> tuple[int, int]:
    """``(matmul, other)`` FLOPs of ``phi`` on the queries and on the keys.

    Matmul: ``x @ omega`` (``2 d m`` a row), ``x @ P`` / ``x @ V`` (``2 d r``), then
    ``z @ omega`` (``2 r m``) for spectral. Other, per row: positive features
    ``2 w + 5 m`` (squared norm over ``w`` inputs; shift, max, subtract, exp, scale),
    relu ``2 m``, polynomial ``(r + 1)^2 + r`` (tensor power and input scaling),
    spectral ``r`` (eigenvalue scaling) plus positive features with ``w = r``.
    """
    rows = 2 * b * h * n
    m, r = shape.random, shape.rank
    if shape.kernel in ("softmax", "gaussian"):
        return rows * 2 * d * m, rows * (2 * d + 5 * m)
    if shape.kernel == "relu":
        return rows * 2 * d * m, rows * 2 * m
    if shape.kernel == "polynomial":
        return rows * 2 * d * r, rows * ((r + 1) ** 2 + r)
    return rows * (2 * d * r + 2 * r * m), rows * (r + 2 * r + 5 * m)


def causal_chunk(n: int, width: int, head_dim: int) -> int:
    """Rows per chunk of causal linear attention: the power of two nearest
    ``sqrt(F d)`` (which balances the kept ``c`` scores and ``F d / c`` states per row),
    within ``[16, 256]``, and at most ``n``."""
    target = 1 << min(8, max(4, round(math.log2(width * head_dim) / 2)))
    return max(1, min(n, target))


def causal_rows(n: int, width: int, head_dim: int) -> int:
    """The length causal linear attention runs at: ``n`` rounded up to whole chunks."""
    chunk = causal_chunk(n, width, head_dim)
    return -(-n // chunk) * chunk


def _features_kept(shape: FeatureShape, head_dim: int) -> tuple[int, int]:
    """``(per row, per call)`` numbers the feature maps of q and k keep besides q, k and
    the features themselves.

    Random-feature kernels: none. Polynomial: the scaled q or k (input of ``x P``) and
    ``[x P, 1]`` (input of the tensor power), each ``d + r + 1`` a row. Spectral: the scaled
    input, ``x V``, ``x V sqrt(lambda)`` and the features before their ``1/sqrt(m)``
    scale, each ``d + 2 r + m`` a row, and ``sqrt(lambda)`` (``r``) per call. (The
    kernels' Python-number factors, 8 bytes each, are not counted.)
    """
    if shape.kernel == "polynomial":
        return 2 * (head_dim + shape.rank + 1), 0
    if shape.kernel == "spectral":
        return 2 * (head_dim + 2 * shape.rank + shape.random), 2 * shape.rank
    return 0, 0


def linear_attention_cost(
    dims: Dims, heads: int, head_dim: int, shape: FeatureShape, causal: bool, bias: bool = True
) -> Cost:
    """Cost of a linear-attention layer (projections, feature maps, attention products).

    Non-causal matmuls: ``phi(k)^T v`` and ``phi(q) (.)`` (``2 n F d`` each) and the
    normaliser ``phi(q) sum_j phi(k_j)`` (``2 n F``); other: the key sum ``n F`` and the
    division ``n d``. Causal: the sequence runs at ``n'`` = ``n`` rounded up to whole
    chunks of ``c`` rows (:func:`causal_chunk`; the feature maps too); matmul per row
    ``2 c F`` (scores) ``+ 2 c d`` (scores times values) ``+ 2 F d`` (chunk states)
    ``+ 2 F d + 2 F`` (queries times the prefix states and key sums); other per row
    ``c + F + d + 2`` (score and key sums, the division, the normaliser's sum and clamp)
    and per chunk ``F d + F`` (prefix sums). Plus ``2 n d`` to scale q and k by
    ``d^-1/4``. All per head.

    Kept for backward, per head and row: q, k, v (``3 d``), ``phi(q)`` and ``phi(k)``
    (``2 F``, plus :func:`_features_kept`), the numerator (``d``) and the normaliser before
    and after its clamp (``2``); non-causal, per head the state and key sum (``F d + F``);
    causal, per row the ``c`` scores and per chunk the prefix states (``F d + F``). Plus
    ``omega`` scaled by ``d^-1/4`` (``d m``) for random-feature kernels (non-causal, also
    the copy of the QKV weight with its rows reordered head-major, ``3 H d D``, that the
    tokens-as-columns projection multiplies by), and for the others the key mask
    (``B n'``) when the causal sequence is padded.
    """
    b, n, h, d, f = dims.batch, dims.seq_len, heads, head_dim, shape.width
    rows = causal_rows(n, f, d) if causal else n
    feature_matmul, feature_other = _feature_map_cost(b, h, rows, d, shape)
    per_head = b * h * rows
    per_row, per_call = _features_kept(shape, d)
    stored = per_head * (3 * d + 2 * f + per_row + d + 2) + per_call
    if causal:
        c = causal_chunk(n, f, d)
        chunks = b * h * (rows // c)
        matmul = per_head * (2 * c * f + 2 * c * d + 4 * f * d + 2 * f)
        other = per_head * (c + f + d + 2) + chunks * (f * d + f)
        stored += per_head * c + chunks * (f * d + f)
    else:
        matmul = per_head * (4 * f * d + 2 * f)
        other = per_head * (f + d)
        stored += b * h * (f * d + f)
    if shape.kernel in ("softmax", "gaussian", "relu"):
        stored += d * shape.random
        if not causal:  # the q, k, v projection weight, rows reordered head-major
            stored += 3 * h * d * dims.hidden_dim
    elif rows != n:  # the kernel's own features are masked by a product: the mask is kept
        stored += b * rows
    mixing = Cost(
        params=0,
        matmul_flops=feature_matmul + matmul,
        other_flops=feature_other + other + per_head * 2 * d,
        activation_bytes=stored * dims.dtype_bytes,
        complexity="O(n)",
    )
    return projections_cost(dims, h * d, bias=bias) + mixing


class _LinearAttentionConfig(AttentionLayerConfig):
    """Shared by the linear-attention layers: ``causal``, features and the cost."""

    causal: bool = False

    def feature_shape(self) -> FeatureShape:
        raise NotImplementedError

    def learned_params(self) -> int:
        """Parameters of the feature map itself (learned projections)."""
        return 0

    def cost(self, dims: Dims) -> Cost:
        shape = self.feature_shape()
        bias = bool(getattr(self, "use_bias", True))
        cost = linear_attention_cost(
            dims, self.num_heads, self.resolved_head_dim, shape, self.causal, bias
        )
        # Dropout on the mixed heads keeps its mask (training).
        cost = cost + dropout_cost(dims, self.dropout, width=self.inner_dim)
        return cost + Cost(params=self.learned_params(), complexity="O(1)")

    @model_validator(mode="after")
    def _features_resolve(self) -> _LinearAttentionConfig:
        self.feature_shape()  # raises ValueError with the reason
        return self


@register_layer(
    "spectral_attention",
    module="specdsl.library.spectral_attention.modules:SpectralAttention",
    family="spectral_attention",
    positional=("kernel_type",),
    math="y = W_o (phi(Q) (phi(K)^T V)) / (phi(Q) phi(K)^T 1), phi = random features",
    reference=_REFERENCE,
)
class SpectralAttentionConfig(_LinearAttentionConfig):
    """Linear attention with random features of the softmax or Gaussian kernel."""

    num_features: int | None = Field(default=None, gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    kernel_type: RandomKernel = "softmax"
    use_orthogonal: bool = True
    feature_redraw: bool = False
    use_bias: bool = True

    def explicit_head_dim(self) -> int | None:
        return self.head_dim

    def feature_shape(self) -> FeatureShape:
        return resolve_features(self.kernel_type, self.resolved_head_dim, self.num_features)


@register_layer(
    "performer",
    module="specdsl.library.spectral_attention.modules:PerformerAttention",
    family="spectral_attention",
    math="y = W_o (phi(Q) (phi(K)^T V)) / (phi(Q) phi(K)^T 1), phi = FAVOR+ (or ReLU)",
    reference=_REFERENCE,
)
class PerformerAttentionConfig(_LinearAttentionConfig):
    """Performer: positive orthogonal random features (FAVOR+); ReLU when generalized."""

    num_features: int | None = Field(default=None, gt=0)
    generalized: bool = False

    def feature_shape(self) -> FeatureShape:
        kernel = "relu" if self.generalized else "softmax"
        return resolve_features(kernel, self.resolved_head_dim, self.num_features)


@register_layer(
    "kernel_attention",
    module="specdsl.library.spectral_attention.modules:KernelAttention",
    family="spectral_attention",
    positional=("kernel_type",),
    math="y = W_o (phi(Q) (phi(K)^T V)) / (phi(Q) phi(K)^T 1), kernel gaussian|polynomial|spectral",
    reference=_REFERENCE,
)
class SpectralKernelAttentionConfig(_LinearAttentionConfig):
    """Linear attention with a Gaussian, low-rank polynomial or learned spectral kernel."""

    kernel_type: SpectralKernelType = "gaussian"
    rank: int | None = Field(default=None, gt=0)
    num_features: int | None = Field(default=None, gt=0)

    def feature_shape(self) -> FeatureShape:
        return resolve_features(
            self.kernel_type, self.resolved_head_dim, self.num_features, self.rank
        )

    def learned_params(self) -> int:
        shape = self.feature_shape()
        d = self.resolved_head_dim
        if shape.kernel == "polynomial":
            return d * shape.rank  # projection P, shared by the heads
        if shape.kernel == "spectral":
            return d * shape.rank + shape.rank  # eigenvectors and eigenvalues
        return 0


__all__ = [
    "PerformerAttentionConfig",
    "SpectralAttentionConfig",
    "SpectralKernelAttentionConfig",
]
