"""Learnable spectral kernels: low-rank eigen/SVD factorisations and a Fourier kernel."""

from __future__ import annotations

from abc import abstractmethod

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import FeatureKernel, check_positive_float, check_positive_int, like
from .sampling import gaussian_matrix, make_generator

__all__ = ["FourierKernel", "LearnableSpectralKernel", "TruncatedSVDKernel"]


def _inverse_softplus(y: Tensor) -> Tensor:
    return y + torch.log(-torch.expm1(-y))


def _orthonormal(input_dim: int, rank: int, seed: int | None) -> Tensor:
    q = torch.linalg.qr(gaussian_matrix(input_dim, rank, make_generator(seed))).Q
    return q.to(torch.get_default_dtype())


class _LowRankSpectralKernel(FeatureKernel):
    """``k(x, y) = (x V) diag(s) (y V)^T`` with a basis ``V`` (d, r) and spectrum ``s > 0``."""

    input_dim: int  # always set (the base class allows None)

    def __init__(self, input_dim: int, rank: int) -> None:
        super().__init__()
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.rank = check_positive_int("rank", rank)
        if self.rank > self.input_dim:
            raise ValueError(f"rank must be in [1, input_dim={self.input_dim}], got {rank!r}")

    @abstractmethod
    def _basis(self, ref: Tensor | None = None) -> Tensor:
        """Basis ``V`` ``(input_dim, rank)``, computed in the dtype/device of ``ref``."""

    @abstractmethod
    def _spectrum(self, ref: Tensor | None = None) -> Tensor:
        """Positive weights ``s`` ``(rank,)``, computed in the dtype/device of ``ref``."""

    @property
    def num_features_out(self) -> int:
        return self.rank

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        basis, spectrum = self._basis(x), self._spectrum(x)
        return ((x @ basis) * spectrum) @ (y @ basis).mT

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        return (x @ self._basis(x)) * self._spectrum(x).sqrt(), None

    def matrix(self) -> Tensor:
        """The ``(input_dim, input_dim)`` PSD matrix ``V diag(s) V^T`` defining the kernel."""
        basis = self._basis()
        return (basis * self._spectrum()) @ basis.mT

    def extra_repr(self) -> str:
        return f"input_dim={self.input_dim}, rank={self.rank}"


class TruncatedSVDKernel(_LowRankSpectralKernel):
    """Rank-``r`` kernel ``k(x, y) = x^T U S U^T y`` with an always-orthonormal ``U``.

    ``U = qr(factor).Q`` (sign-corrected) is recomputed from the free parameter ``factor``
    ``(input_dim, rank)`` on every call, so it stays orthonormal during training, and
    ``S = diag(softplus(raw_singular_values))`` is positive: the kernel is PSD with
    eigenpairs ``(S_ii, U_i)``. Features are ``phi(x) = x U S^{1/2}`` (width ``rank``).

    Parameters
    ----------
    input_dim : int
        Input width ``d``.
    rank : int
        Rank ``r`` (``1 <= r <= d``).
    seed : int, optional
        Seed of a local generator for the initial (random orthonormal) ``factor``.
    """

    def __init__(self, input_dim: int, rank: int, seed: int | None = None) -> None:
        super().__init__(input_dim, rank)
        self.factor = nn.Parameter(_orthonormal(self.input_dim, self.rank, seed))
        ones = torch.ones(self.rank, dtype=torch.get_default_dtype())
        self.raw_singular_values = nn.Parameter(_inverse_softplus(ones))

    @classmethod
    def from_matrix(cls, matrix: Tensor, rank: int) -> TruncatedSVDKernel:
        """Initialise from the top-``rank`` eigenpairs of a symmetric matrix ``(d, d)``.

        Negative (and zero) eigenvalues are clamped to a tiny positive value.
        """
        matrix = torch.as_tensor(matrix)
        if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"matrix must be square (d, d), got {tuple(matrix.shape)}")
        kernel = cls(matrix.shape[0], rank, seed=0)  # overwritten below
        evals, evecs = torch.linalg.eigh(0.5 * (matrix + matrix.mT).double())
        top = torch.argsort(evals, descending=True)[: kernel.rank]
        values = evals[top].clamp_min(1e-12)
        dtype = kernel.factor.dtype
        with torch.no_grad():
            kernel.factor.copy_(evecs[:, top].to(dtype))
            kernel.raw_singular_values.copy_(_inverse_softplus(values).to(dtype))
        return kernel

    @property
    def singular_values(self) -> Tensor:
        """``softplus(raw_singular_values)``, shape ``(rank,)``."""
        return self._spectrum()

    @property
    def basis(self) -> Tensor:
        """Orthonormal ``U`` of shape ``(input_dim, rank)``."""
        return self._basis()

    def _basis(self, ref: Tensor | None = None) -> Tensor:
        factor = self.factor if ref is None else like(self.factor, ref)
        q, r = torch.linalg.qr(factor)
        sign = torch.sign(torch.diagonal(r))
        return q * torch.where(sign == 0, torch.ones_like(sign), sign)

    def _spectrum(self, ref: Tensor | None = None) -> Tensor:
        raw = self.raw_singular_values
        return F.softplus(raw if ref is None else like(raw, ref))


class LearnableSpectralKernel(_LowRankSpectralKernel):
    """Kernel ``k(x, y) = sum_i lambda_i (v_i . x)(v_i . y)`` with learnable eigenpairs.

    ``eigenvectors`` ``(input_dim, rank)`` are free parameters (initialised orthonormal;
    call :meth:`orthogonalize_eigenvectors` to re-orthonormalise them) and the eigenvalues
    ``lambda = softplus(raw_eigenvalues)`` are positive, so the kernel is PSD. Features are
    ``phi(x) = (x V) sqrt(lambda)`` (width ``rank``).

    Parameters
    ----------
    input_dim : int
        Input width ``d``.
    rank : int
        Number of eigenpairs ``r`` (``1 <= r <= d``).
    init_eigenvalue : float
        Initial value of every ``lambda_i`` (> 0).
    seed : int, optional
        Seed of a local generator for the initial eigenvectors.
    """

    def __init__(
        self,
        input_dim: int,
        rank: int,
        init_eigenvalue: float = 1.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(input_dim, rank)
        init = check_positive_float("init_eigenvalue", init_eigenvalue)
        self.eigenvectors = nn.Parameter(_orthonormal(self.input_dim, self.rank, seed))
        values = torch.full((self.rank,), init, dtype=torch.get_default_dtype())
        self.raw_eigenvalues = nn.Parameter(_inverse_softplus(values))

    @property
    def eigenvalues(self) -> Tensor:
        """``softplus(raw_eigenvalues)``, shape ``(rank,)``."""
        return self._spectrum()

    def _basis(self, ref: Tensor | None = None) -> Tensor:
        return self.eigenvectors if ref is None else like(self.eigenvectors, ref)

    def _spectrum(self, ref: Tensor | None = None) -> Tensor:
        raw = self.raw_eigenvalues
        return F.softplus(raw if ref is None else like(raw, ref))

    @torch.no_grad()
    def orthogonalize_eigenvectors(self) -> None:
        """Replace ``eigenvectors`` in place by the (sign-corrected) Q factor of their QR."""
        q, r = torch.linalg.qr(self.eigenvectors)
        sign = torch.sign(torch.diagonal(r))
        self.eigenvectors.copy_(q * torch.where(sign == 0, torch.ones_like(sign), sign))


class FourierKernel(FeatureKernel):
    """Shift-invariant kernel with a learnable discrete spectral density.

    The spectral density is a symmetric mixture of ``D`` point masses at learnable
    frequencies ``w_j`` (columns of ``frequencies``, ``(input_dim, D)``) with weights
    ``a = softmax(logits)``, so by Bochner's theorem
    ``k(x, y) = sum_j a_j cos(w_j . (x - y))`` (PSD, ``k(x, x) = 1``). The feature map
    ``phi(x) = [sqrt(a) cos(x W), sqrt(a) sin(x W)]`` (width ``2 D``) is exact. At
    initialisation ``w_j ~ N(0, sigma^-2 I)`` and ``a_j = 1 / D``: a random-feature
    estimate of the Gaussian kernel of bandwidth ``sigma``.

    Parameters
    ----------
    input_dim : int
        Input width ``d``.
    num_features : int
        Number of frequencies ``D``.
    sigma : float
        Bandwidth of the initial (Gaussian) spectral density (> 0).
    trainable : bool
        Frequencies and logits are ``nn.Parameter`` (default) or buffers.
    seed : int, optional
        Seed of a local generator for the initial frequencies.
    """

    frequencies: Tensor
    logits: Tensor

    def __init__(
        self,
        input_dim: int,
        num_features: int,
        sigma: float = 1.0,
        trainable: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.num_features = check_positive_int("num_features", num_features)
        self.sigma = check_positive_float("sigma", sigma)
        self.trainable = bool(trainable)
        dtype = torch.get_default_dtype()
        freqs = gaussian_matrix(self.input_dim, self.num_features, make_generator(seed))
        self._register_tensor("frequencies", (freqs / self.sigma).to(dtype), self.trainable)
        self._register_tensor("logits", torch.zeros(self.num_features, dtype=dtype), trainable)

    @property
    def spectral_weights(self) -> Tensor:
        """Mixture weights ``softmax(logits)``, shape ``(num_features,)``."""
        return torch.softmax(self.logits, dim=-1)

    @property
    def num_features_out(self) -> int:
        return 2 * self.num_features

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        freqs = like(self.frequencies, x)
        weights = torch.softmax(like(self.logits, x), dim=-1)
        phase = (x @ freqs).unsqueeze(-2) - (y @ freqs).unsqueeze(-3)
        return torch.cos(phase) @ weights

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        proj = x @ like(self.frequencies, x)
        amp = torch.softmax(like(self.logits, x), dim=-1).sqrt()
        return torch.cat([amp * torch.cos(proj), amp * torch.sin(proj)], dim=-1), None

    def extra_repr(self) -> str:
        return (
            f"input_dim={self.input_dim}, num_features={self.num_features}, "
            f"sigma={self.sigma}, trainable={self.trainable}"
        )
