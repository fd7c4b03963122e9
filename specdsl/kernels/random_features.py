"""Random Fourier features (Rahimi & Recht 2007) for shift-invariant kernels."""

from __future__ import annotations

import math
from abc import abstractmethod

import torch
from torch import Tensor

from .base import FeatureKernel, check_positive_float, check_positive_int, like, squared_distances
from .sampling import (
    cauchy_matrix,
    gaussian_matrix,
    make_generator,
    orthogonal_gaussian_matrix,
    uniform_phase,
)

__all__ = ["GaussianRFFKernel", "LaplacianRFFKernel", "OrthogonalRandomFeatures"]


class _ShiftInvariantRFF(FeatureKernel):
    """Shared machinery: frequencies ``omega`` (d, D), phases ``bias`` (D,) and the cos map."""

    input_dim: int  # always set (the base class allows None)
    omega: Tensor
    bias: Tensor | None

    def __init__(
        self,
        input_dim: int,
        num_features: int,
        sigma: float,
        use_cos_sin: bool,
        trainable: bool,
        seed: int | None,
    ) -> None:
        super().__init__()
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.num_features = check_positive_int("num_features", num_features)
        self.sigma = check_positive_float("sigma", sigma)
        self.use_cos_sin = bool(use_cos_sin)
        self.trainable = bool(trainable)
        self.seed = seed
        generator = make_generator(seed)
        dtype = torch.get_default_dtype()
        self._register_tensor("omega", self._sample_frequencies(generator).to(dtype), trainable)
        bias = None if self.use_cos_sin else uniform_phase(self.num_features, generator).to(dtype)
        self._register_tensor("bias", bias, trainable)

    @abstractmethod
    def _sample_frequencies(self, generator: torch.Generator | None) -> Tensor:
        """Frequencies drawn from the kernel's spectral density, shape ``(d, D)``."""

    @property
    def num_features_out(self) -> int:
        return 2 * self.num_features if self.use_cos_sin else self.num_features

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        proj = x @ like(self.omega, x)
        if self.bias is None:
            feats = torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)
            return feats / math.sqrt(self.num_features), None
        return torch.cos(proj + like(self.bias, x)) * math.sqrt(2.0 / self.num_features), None

    def extra_repr(self) -> str:
        return (
            f"input_dim={self.input_dim}, num_features={self.num_features}, sigma={self.sigma}, "
            f"use_cos_sin={self.use_cos_sin}, trainable={self.trainable}"
        )


class GaussianRFFKernel(_ShiftInvariantRFF):
    """Random Fourier features for the Gaussian (RBF) kernel.

    ``k(x, y) = exp(-||x - y||^2 / (2 sigma^2))``, approximated by
    ``phi(x) = sqrt(2 / D) cos(x omega + b)`` with ``omega ~ N(0, sigma^-2 I)`` and
    ``b ~ U[0, 2 pi)``, or by ``phi(x) = [cos(x omega), sin(x omega)] / sqrt(D)``.

    Parameters
    ----------
    input_dim : int
        Input width ``d``.
    num_features : int
        Number of frequencies ``D`` (the output width is ``D``, or ``2 D`` with cos/sin).
    sigma : float
        Kernel bandwidth (> 0).
    use_cos_sin : bool
        Use the phase-free ``[cos, sin]`` map (lower variance, ``2 D`` outputs).
    orthogonal : bool
        Draw ``omega`` as orthogonal random features (blocks of orthogonal directions
        with chi-distributed norms, Yu et al. 2016).
    trainable : bool
        Store ``omega`` (and ``b``) as ``nn.Parameter`` instead of buffers.
    seed : int, optional
        Seed of a local generator; the global RNG is left untouched.
    """

    def __init__(
        self,
        input_dim: int,
        num_features: int,
        sigma: float = 1.0,
        use_cos_sin: bool = False,
        orthogonal: bool = False,
        trainable: bool = False,
        seed: int | None = None,
    ) -> None:
        self.orthogonal = bool(orthogonal)  # plain attribute, read by _sample_frequencies
        super().__init__(input_dim, num_features, sigma, use_cos_sin, trainable, seed)

    def _sample_frequencies(self, generator: torch.Generator | None) -> Tensor:
        sampler = orthogonal_gaussian_matrix if self.orthogonal else gaussian_matrix
        return sampler(self.input_dim, self.num_features, generator) / self.sigma

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        return torch.exp(-squared_distances(x, y) / (2.0 * self.sigma**2))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, orthogonal={self.orthogonal}"


class OrthogonalRandomFeatures(GaussianRFFKernel):
    """Orthogonal random features (ORF) for the Gaussian kernel.

    Same kernel and feature map as :class:`GaussianRFFKernel` with ``orthogonal=True``:
    frequencies are blocks of orthogonal directions rescaled by chi(d) norms, which keeps
    the estimator unbiased and lowers its variance.

    Parameters
    ----------
    input_dim, num_features, sigma, use_cos_sin, trainable, seed
        As for :class:`GaussianRFFKernel`.
    """

    def __init__(
        self,
        input_dim: int,
        num_features: int,
        sigma: float = 1.0,
        seed: int | None = None,
        use_cos_sin: bool = False,
        trainable: bool = False,
    ) -> None:
        super().__init__(
            input_dim,
            num_features,
            sigma=sigma,
            use_cos_sin=use_cos_sin,
            orthogonal=True,
            trainable=trainable,
            seed=seed,
        )


class LaplacianRFFKernel(_ShiftInvariantRFF):
    """Random Fourier features for the Laplacian kernel.

    ``k(x, y) = exp(-||x - y||_1 / sigma)``. It factorises over dimensions and the Fourier
    transform of ``exp(-|t| / sigma)`` is a Cauchy density of scale ``1 / sigma``, so each
    entry of ``omega`` is an independent ``Cauchy(0, 1 / sigma)`` draw; the feature map is
    the same cos (or cos/sin) map as :class:`GaussianRFFKernel`.

    Parameters
    ----------
    input_dim, num_features, use_cos_sin, trainable, seed
        As for :class:`GaussianRFFKernel`.
    sigma : float
        Length scale (> 0).
    """

    def __init__(
        self,
        input_dim: int,
        num_features: int,
        sigma: float = 1.0,
        use_cos_sin: bool = False,
        trainable: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(input_dim, num_features, sigma, use_cos_sin, trainable, seed)

    def _sample_frequencies(self, generator: torch.Generator | None) -> Tensor:
        return cauchy_matrix(self.input_dim, self.num_features, generator) / self.sigma

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        l1 = (x.unsqueeze(-2) - y.unsqueeze(-3)).abs().sum(-1)
        return torch.exp(-l1 / self.sigma)
