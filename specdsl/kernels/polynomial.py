"""Polynomial and cosine kernels, and a low-rank spectral polynomial kernel."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .base import FeatureKernel, check_finite_float, check_positive_int, like
from .sampling import gaussian_matrix, make_generator

__all__ = ["CosineKernel", "PolynomialKernel", "PolynomialSpectralKernel", "tensor_power"]


def tensor_power(z: Tensor, degree: int) -> Tensor:
    """Flattened ``degree``-fold outer power of ``z``: ``(..., p) -> (..., p ** degree)``.

    ``tensor_power(a, p) . tensor_power(b, p) == (a . b) ** p``.
    """
    out = z
    for _ in range(degree - 1):
        out = (out.unsqueeze(-1) * z.unsqueeze(-2)).flatten(-2)
    return out


def _poly_features(z: Tensor, degree: int, alpha: float, coef0: float) -> Tensor:
    """Exact features of ``(alpha a . b + coef0) ** degree`` (needs alpha, coef0 >= 0)."""
    z = math.sqrt(alpha) * z
    if coef0 != 0.0:
        const = torch.full_like(z[..., :1], math.sqrt(coef0))
        z = torch.cat([z, const], dim=-1)
    return tensor_power(z, degree)


class PolynomialKernel(FeatureKernel):
    """Polynomial kernel ``k(x, y) = (alpha x . y + coef0) ** degree``.

    The feature map is exact (no randomness): with ``z(x) = [sqrt(alpha) x, sqrt(coef0)]``
    it is the flattened ``degree``-fold tensor power of ``z(x)``, of width
    ``(d + 1) ** degree`` (``d ** degree`` when ``coef0 == 0``); it exists only for
    ``alpha >= 0`` and ``coef0 >= 0`` and is meant for small ``d`` and ``degree``.

    Parameters
    ----------
    degree : int
        Polynomial degree (>= 1).
    alpha : float
        Scale of the inner product.
    coef0 : float
        Additive constant.
    input_dim : int, optional
        Input width, used to validate inputs and report ``num_features_out``.
    """

    def __init__(
        self,
        degree: int = 2,
        alpha: float = 1.0,
        coef0: float = 1.0,
        input_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.degree = check_positive_int("degree", degree)
        self.alpha = check_finite_float("alpha", alpha)
        self.coef0 = check_finite_float("coef0", coef0)
        self.input_dim = None if input_dim is None else check_positive_int("input_dim", input_dim)

    @property
    def num_features_out(self) -> int | None:
        if self.input_dim is None:
            return None
        return (self.input_dim + (self.coef0 != 0.0)) ** self.degree

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        return (self.alpha * (x @ y.mT) + self.coef0) ** self.degree

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        if self.alpha < 0 or self.coef0 < 0:
            raise ValueError("the polynomial feature map requires alpha >= 0 and coef0 >= 0")
        return _poly_features(x, self.degree, self.alpha, self.coef0), None

    def extra_repr(self) -> str:
        return f"degree={self.degree}, alpha={self.alpha}, coef0={self.coef0}"


class CosineKernel(FeatureKernel):
    """Cosine similarity ``k(x, y) = x . y / (||x|| ||y||)`` with feature map ``x / ||x||``.

    Parameters
    ----------
    eps : float
        Norms are clamped below at ``eps`` (zero vectors map to zero features).
    input_dim : int, optional
        Input width, used to validate inputs and report ``num_features_out``.
    """

    def __init__(self, eps: float = 1e-12, input_dim: int | None = None) -> None:
        super().__init__()
        self.eps = check_finite_float("eps", eps, minimum=0.0)
        self.input_dim = None if input_dim is None else check_positive_int("input_dim", input_dim)

    @property
    def num_features_out(self) -> int | None:
        return self.input_dim

    def _normalise(self, x: Tensor) -> Tensor:
        return x / x.norm(dim=-1, keepdim=True).clamp_min(self.eps)

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        return self._normalise(x) @ self._normalise(y).mT

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        return self._normalise(x), None


class PolynomialSpectralKernel(FeatureKernel):
    """Low-rank polynomial kernel ``k(x, y) = (alpha (x P) . (y P) + coef0) ** degree``.

    ``P`` (``projection``, shape ``(input_dim, rank)``) is learnable and initialised with
    orthonormal columns, so that for ``rank == input_dim`` the kernel is exactly the
    polynomial kernel and for ``rank < input_dim`` it is the polynomial kernel of the
    projection onto a rank-``r`` subspace. The exact feature map is the tensor power of
    ``[sqrt(alpha) x P, sqrt(coef0)]``, width ``(rank + 1) ** degree``.

    Parameters
    ----------
    input_dim : int
        Input width ``d``.
    rank : int
        Projection rank ``r`` (``1 <= r <= d``).
    degree : int
        Polynomial degree (>= 1).
    alpha : float
        Inner-product scale (>= 0).
    coef0 : float
        Additive constant (>= 0).
    seed : int, optional
        Seed of a local generator for the initial projection.
    """

    def __init__(
        self,
        input_dim: int,
        rank: int,
        degree: int = 2,
        alpha: float = 1.0,
        coef0: float = 1.0,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.rank = check_positive_int("rank", rank)
        if self.rank > self.input_dim:
            raise ValueError(f"rank must be in [1, input_dim={self.input_dim}], got {rank!r}")
        self.degree = check_positive_int("degree", degree)
        self.alpha = check_finite_float("alpha", alpha, minimum=0.0)
        self.coef0 = check_finite_float("coef0", coef0, minimum=0.0)
        gauss = gaussian_matrix(self.input_dim, self.rank, make_generator(seed))
        q = torch.linalg.qr(gauss).Q
        self.projection = nn.Parameter(q.to(torch.get_default_dtype()))

    @property
    def num_features_out(self) -> int:
        return (self.rank + (self.coef0 != 0.0)) ** self.degree

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        proj = like(self.projection, x)
        return (self.alpha * ((x @ proj) @ (y @ proj).mT) + self.coef0) ** self.degree

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        z = x @ like(self.projection, x)
        return _poly_features(z, self.degree, self.alpha, self.coef0), None

    def extra_repr(self) -> str:
        return (
            f"input_dim={self.input_dim}, rank={self.rank}, degree={self.degree}, "
            f"alpha={self.alpha}, coef0={self.coef0}"
        )
