"""Seeded samplers for random-feature frequency matrices.

All samplers draw in float64 on the CPU from an optional local ``torch.Generator``
(``None`` uses the global RNG) and return matrices of shape ``(input_dim, num_features)``
whose *columns* are frequency vectors, so that projections are ``x @ omega``.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

__all__ = [
    "cauchy_matrix",
    "gaussian_matrix",
    "make_generator",
    "orthogonal_gaussian_matrix",
    "uniform_phase",
]


def make_generator(seed: int | None) -> torch.Generator | None:
    """A CPU generator seeded with ``seed``, or ``None`` (global RNG) when ``seed is None``."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


def gaussian_matrix(input_dim: int, num_features: int, generator: torch.Generator | None) -> Tensor:
    """I.i.d. standard normal frequencies, shape ``(input_dim, num_features)``."""
    return torch.randn(input_dim, num_features, generator=generator, dtype=torch.float64)


def orthogonal_gaussian_matrix(
    input_dim: int, num_features: int, generator: torch.Generator | None
) -> Tensor:
    """Orthogonal random features (Yu et al. 2016).

    Columns come in blocks of ``input_dim`` exactly orthogonal directions (Q factor of the
    QR decomposition of a Gaussian matrix, sign-corrected so it is Haar distributed); each
    column is rescaled by an independent chi(``input_dim``)-distributed norm so every
    column is marginally ``N(0, I)``.
    """
    num_blocks = math.ceil(num_features / input_dim)
    gauss = torch.randn(num_blocks, input_dim, input_dim, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gauss)  # batched over blocks
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    directions = q.permute(1, 0, 2).reshape(input_dim, -1)[:, :num_features]
    norms = gaussian_matrix(input_dim, num_features, generator).norm(dim=0)
    return directions * norms


def cauchy_matrix(input_dim: int, num_features: int, generator: torch.Generator | None) -> Tensor:
    """I.i.d. standard Cauchy frequencies (inverse-CDF sampling), ``(input_dim, num_features)``."""
    u = torch.rand(input_dim, num_features, generator=generator, dtype=torch.float64)
    return torch.tan(math.pi * (u - 0.5))


def uniform_phase(num_features: int, generator: torch.Generator | None) -> Tensor:
    """Phases ``b ~ U[0, 2 pi)`` of shape ``(num_features,)``."""
    return 2.0 * math.pi * torch.rand(num_features, generator=generator, dtype=torch.float64)
