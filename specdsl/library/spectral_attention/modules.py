"""Random-feature and kernel (linear) attention: torch modules."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from specdsl.kernels import FeatureKernel, PolynomialSpectralKernel, RFFAttentionKernel
from specdsl.library.attention._shared import (
    MultiHeadMixer,
    check_choice,
    draw_seed,
    linear,
    resolve_head_dim,
)
from specdsl.library.spectral_attention import FeatureShape, causal_rows, resolve_features
from specdsl.library.spectral_attention._fast import (
    COLUMNS,
    FAST_KINDS,
    ROWS,
    causal_linear_attention,
    column_output,
    column_qkv,
    head_major_qkv,
    key_features,
    linear_attention,
    pad_rows,
    query_features,
)
from specdsl.library.spectral_attention._features import (
    LowRankSoftmaxKernel,
    PositiveGaussianKernel,
)


def build_kernel(
    shape: FeatureShape, head_dim: int, use_orthogonal: bool = True, redraw: bool = False
) -> FeatureKernel:
    """The feature kernel of a resolved :class:`FeatureShape`, seeded from the global RNG."""
    seed = draw_seed()
    if shape.kernel in ("softmax", "relu"):
        return RFFAttentionKernel(
            head_dim, shape.random, shape.kernel, use_orthogonal, redraw, seed
        )
    if shape.kernel == "gaussian":
        return PositiveGaussianKernel(head_dim, shape.random, use_orthogonal, redraw, seed)
    if shape.kernel == "polynomial":
        return PolynomialSpectralKernel(
            head_dim, shape.rank, degree=2, alpha=1.0, coef0=1.0, seed=seed
        )
    return LowRankSoftmaxKernel(head_dim, shape.rank, shape.random, seed)


class LinearAttention(MultiHeadMixer):
    """Base of the linear-attention layers: ``W_o (phi(q) (phi(k)^T v)) / (phi(q) phi(k)^T 1)``.

    ``q`` and ``k`` are scaled by ``head_dim^-1/4`` before the feature map, so the softmax
    kernel ``exp(q . k)`` becomes that of ``softmax(q k^T / sqrt(d))``. All heads run at
    once, head-major (:mod:`specdsl.library.spectral_attention._fast`): random-feature
    kernels (softmax, Gaussian, ReLU) through the fused feature maps, the others through
    the kernel's own feature map; the ``n x n`` matrix is never formed. ``causal`` runs in
    chunks of ``c`` rows (:func:`~specdsl.library.spectral_attention.causal_chunk`, the
    sequence zero-padded to whole chunks, padded keys masked): masked ``c x c`` scores
    within a chunk, prefix sums of the chunk states ``phi(k)^T v`` across chunks. A
    ``(B, N)`` mask zeroes the padded keys' features. Dropout acts on the attention output
    (before ``W_o``).
    """

    kernel: FeatureKernel

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int,
        shape: FeatureShape,
        dropout: float = 0.0,
        head_dim: int | None = None,
        use_bias: bool = True,
        causal: bool = False,
        use_orthogonal: bool = True,
        redraw: bool = False,
    ) -> None:
        super().__init__(hidden_dim, num_heads, dropout, head_dim=head_dim, use_bias=use_bias)
        self.causal = bool(causal)
        self.num_features = shape.width
        self.feature_kind = shape.kernel
        self.kernel = build_kernel(shape, self.head_dim, use_orthogonal, redraw)
        self.feature_scale = self.head_dim**-0.25

    def forward(
        self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, None]:
        """Mix ``x`` ``(B, N, D)``; ``mask`` ``(B, N)`` is True for real tokens.

        Returns ``(B, N, D)``, or ``(output, None)`` with ``return_attention`` (the
        attention matrix is never materialised).
        """
        mask = self.check_input(x, mask)
        if self.causal or self.feature_kind not in FAST_KINDS:
            out = linear(self.out_proj, self.output_dropout(self._mix_rows(x, mask)))
        else:
            out = column_output(self.out_proj, self.output_dropout(self._mix_columns(x, mask)))
        return (out, None) if return_attention else out

    def _mix_columns(self, x: Tensor, mask: Tensor | None) -> Tensor:
        """The mixed heads ``(B, H d, N)``, tokens as columns throughout (non-causal, the
        random-feature maps of ``FAST_KINDS``): no copy of q, k, v or of the output."""
        b, n, _ = x.shape
        q, k, v = column_qkv(self.qkv, x, self.num_heads).unbind(2)  # (B, H, d, N) each
        phi_q, phi_k = self.features(q, k, mask, COLUMNS)
        return linear_attention(phi_q, phi_k, v, dim=COLUMNS).view(b, self.inner_dim, n)

    def _mix_rows(self, x: Tensor, mask: Tensor | None) -> Tensor:
        """The mixed heads ``(B, N, H d)`` from head-major q, k, v (causal layers, kernel
        feature maps)."""
        b, n, _ = x.shape
        qkv = head_major_qkv(self.qkv, x, self.num_heads)
        if self.causal:
            rows = causal_rows(n, self.num_features, self.head_dim)
            if rows != n:  # whole chunks: zero rows, masked as keys, cropped as queries
                qkv = pad_rows(qkv, rows)
                real = torch.ones(b, n, dtype=torch.bool, device=x.device)
                mask = F.pad(real if mask is None else mask, (0, rows - n))
        phi_q, phi_k = self.features(qkv[0], qkv[1], mask)
        attend = causal_linear_attention if self.causal else linear_attention
        y = attend(phi_q, phi_k, qkv[2])[..., :n, :]
        return y.permute(1, 2, 0, 3).reshape(b, n, self.inner_dim)  # (H, B, N, d) -> (B, N, H d)

    def features(
        self, q: Tensor, k: Tensor, mask: Tensor | None, dim: int = ROWS
    ) -> tuple[Tensor, Tensor]:
        """``(phi(q), phi(k))`` of per-head queries and keys, each up to a positive factor
        that cancels in the attention ratio; padded keys (``mask`` ``(B, N)`` False) get
        zero. Head-major ``(H, B, N, d)`` (``dim = ROWS``), or ``(B, H, d, N)`` with the
        tokens as columns (``dim = COLUMNS``, random-feature maps only)."""
        self.kernel._maybe_redraw()
        if self.feature_kind in FAST_KINDS:
            omega = self.kernel.omega.to(q.dtype) * self.feature_scale
            kind = self.feature_kind
            keep = None
            if mask is not None:
                keep = mask[..., None] if dim == ROWS else mask[:, None, None, :]
            return query_features(q, omega, kind, dim), key_features(
                k, omega, kind, self.feature_scale, keep, dim
            )
        q, k = q * self.feature_scale, k * self.feature_scale
        phi_q = self.kernel._feature_map(q, True, None)[0]
        phi_k = self.kernel._feature_map(k, False, mask)[0]
        return phi_q, phi_k if mask is None else phi_k * mask[..., None].to(phi_k.dtype)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, num_features={self.num_features}, causal={self.causal}"


class SpectralAttention(LinearAttention):
    """Linear attention with random features of the softmax or Gaussian kernel.

    Parameters
    ----------
    hidden_dim : int
        Model width.
    num_heads : int
        Number of heads.
    num_features : int, optional
        Random features per head (default: ``head_dim``).
    head_dim : int, optional
        Width of a head (default: ``hidden_dim // num_heads``).
    kernel_type : {"softmax", "gaussian"}
        ``softmax``: FAVOR+ positive features of ``exp(q . k)``; ``gaussian``: positive
        features of ``exp(-||q - k||^2 / 2)``.
    use_orthogonal : bool
        Orthogonal random directions.
    feature_redraw : bool
        Redraw the random features at every forward pass in training mode.
    dropout : float
        Dropout on the attention output.
    use_bias : bool
        Bias in the projections.
    causal : bool
        Exactly causal (prefix sums).
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 8,
        num_features: int | None = None,
        head_dim: int | None = None,
        kernel_type: str = "softmax",
        use_orthogonal: bool = True,
        feature_redraw: bool = False,
        dropout: float = 0.0,
        use_bias: bool = True,
        causal: bool = False,
    ) -> None:
        check_choice("kernel_type", kernel_type, ("softmax", "gaussian"))
        resolved = resolve_head_dim(hidden_dim, num_heads, head_dim)
        shape = resolve_features(kernel_type, resolved, num_features)
        super().__init__(
            hidden_dim,
            num_heads,
            shape,
            dropout,
            head_dim,
            use_bias,
            causal,
            use_orthogonal,
            feature_redraw,
        )
        self.kernel_type = kernel_type
        self.use_orthogonal = bool(use_orthogonal)
        self.feature_redraw = bool(feature_redraw)


class PerformerAttention(LinearAttention):
    """Performer attention: FAVOR+ positive orthogonal random features.

    Parameters
    ----------
    hidden_dim : int
        Model width, divisible by ``num_heads``.
    num_heads : int
        Number of heads.
    num_features : int, optional
        Random features per head (default: ``head_dim``).
    generalized : bool
        Generalized attention with ReLU random features instead of the softmax kernel.
    dropout : float
        Dropout on the attention output.
    causal : bool
        Exactly causal (prefix sums).
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 8,
        num_features: int | None = None,
        generalized: bool = False,
        dropout: float = 0.0,
        causal: bool = False,
    ) -> None:
        kernel = "relu" if generalized else "softmax"
        shape = resolve_features(kernel, resolve_head_dim(hidden_dim, num_heads), num_features)
        super().__init__(hidden_dim, num_heads, shape, dropout, causal=causal)
        self.generalized = bool(generalized)


class KernelAttention(LinearAttention):
    """Linear attention with a Gaussian, low-rank polynomial or learned spectral kernel.

    Parameters
    ----------
    hidden_dim : int
        Model width, divisible by ``num_heads``.
    num_heads : int
        Number of heads.
    kernel_type : {"gaussian", "polynomial", "spectral"}
        ``gaussian``: ``exp(-||q - k||^2 / 2)`` with positive random features;
        ``polynomial``: ``((q P) . (k P) + 1)^2`` with a learned rank-``r`` projection
        ``P`` (exact features of width ``(r + 1)^2``); ``spectral``:
        ``exp(q^T V diag(lambda) V^T k)`` with a learned rank-``r`` eigenbasis, estimated
        with positive random features. Learned kernels are shared by the heads.
    rank : int, optional
        ``r`` for polynomial and spectral (default ``min(64, head_dim)``).
    num_features : int, optional
        Random features for gaussian (default ``head_dim``) and spectral (default ``r``).
    dropout : float
        Dropout on the attention output.
    causal : bool
        Exactly causal (prefix sums).
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 8,
        kernel_type: str = "gaussian",
        rank: int | None = None,
        num_features: int | None = None,
        dropout: float = 0.0,
        causal: bool = False,
    ) -> None:
        check_choice("kernel_type", kernel_type, ("gaussian", "polynomial", "spectral"))
        shape = resolve_features(
            kernel_type, resolve_head_dim(hidden_dim, num_heads), num_features, rank
        )
        super().__init__(hidden_dim, num_heads, shape, dropout, causal=causal)
        self.kernel_type = kernel_type
        self.rank = shape.rank or None


__all__ = ["KernelAttention", "PerformerAttention", "SpectralAttention"]
