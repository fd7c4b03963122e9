"""Positive feature maps for linear attention not provided by :mod:`specdsl.kernels`.

* :class:`PositiveGaussianKernel`: the Gaussian kernel ``exp(-||x - y||^2 / 2)`` with
  positive random features ``exp(x w - ||x||^2) / sqrt(m)``, ``w ~ N(0, I)``:
  ``E[exp(w.(x + y))] = exp(||x + y||^2 / 2)``, so the estimate is unbiased and, unlike
  cosine features, never makes an attention normaliser negative.
* :class:`LowRankSoftmaxKernel`: ``exp(x^T V diag(lambda) V^T y)``, a softmax kernel in a
  learned low-rank eigenbasis (:class:`~specdsl.kernels.LearnableSpectralKernel`),
  estimated with FAVOR+ features of the projected inputs.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from specdsl.kernels import FeatureKernel, LearnableSpectralKernel, RFFAttentionKernel
from specdsl.kernels.base import like, squared_distances


def positive_features(
    logits: Tensor, num_features: int, is_query: bool | None, mask: Tensor | None
) -> tuple[Tensor, Tensor | None]:
    """``exp(logits) / sqrt(m)`` up to a positive factor ``exp(stab)`` that cancels in attention.

    Queries subtract their row maximum; keys one maximum over all unmasked keys and
    features (a constant along the attention sum); ``is_query=None`` is unstabilised.
    """
    scale = 1.0 / math.sqrt(num_features)
    if is_query is None:
        return torch.exp(logits) * scale, None
    kept = logits.detach()
    if is_query:
        stab = kept.amax(dim=-1, keepdim=True)
    else:
        if mask is not None:
            kept = kept.masked_fill(~mask.unsqueeze(-1), float("-inf"))
        stab = kept.amax(dim=(-2, -1), keepdim=True)
        stab = torch.where(torch.isfinite(stab), stab, torch.zeros_like(stab))
    return torch.exp(logits - stab) * scale, stab


class PositiveGaussianKernel(RFFAttentionKernel):
    """Gaussian kernel ``exp(-||x - y||^2 / 2)`` with positive random features.

    Parameters
    ----------
    input_dim : int
        Input width ``d``.
    num_features : int
        Number of random features ``m``.
    use_orthogonal : bool
        Orthogonal random directions (lower variance).
    redraw : bool
        Redraw the features at every call in training mode.
    seed : int, optional
        Seed of the local generator of the features.
    """

    def __init__(
        self,
        input_dim: int,
        num_features: int,
        use_orthogonal: bool = True,
        redraw: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(input_dim, num_features, "softmax", use_orthogonal, redraw, seed)

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        assert self.omega is not None
        logits = x @ like(self.omega, x) - x.pow(2).sum(-1, keepdim=True)
        return positive_features(logits, self.num_features, is_query, mask)

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        return torch.exp(-0.5 * squared_distances(x, y))


class LowRankSoftmaxKernel(FeatureKernel):
    """``k(x, y) = exp((x V) diag(lambda) (y V)^T)`` with FAVOR+ features of ``x V sqrt(lambda)``.

    Parameters
    ----------
    input_dim : int
        Input width ``d``.
    rank : int
        Rank ``r`` of the learned eigenbasis ``V`` (``d x r``, initialised orthonormal;
        ``lambda = softplus(raw) > 0``, initialised to 1).
    num_features : int
        Number of positive random features on the ``r``-dimensional projection.
    seed : int, optional
        Seed of the eigenbasis (and, plus one, of the random features).
    """

    def __init__(
        self, input_dim: int, rank: int, num_features: int, seed: int | None = None
    ) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.metric = LearnableSpectralKernel(input_dim, rank, seed=seed)
        feature_seed = None if seed is None else seed + 1
        self.features = RFFAttentionKernel(rank, num_features, "softmax", True, False, feature_seed)

    @property
    def num_features_out(self) -> int:
        return self.features.num_features

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        projected = self.metric(x)  # x V sqrt(lambda), (..., n, r)
        return self.features._feature_map(projected, is_query, mask)

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        return torch.exp(self.metric.compute(x, y))


__all__ = ["LowRankSoftmaxKernel", "PositiveGaussianKernel", "positive_features"]
