"""Walsh-Hadamard family modules: natural/sequency Hadamard (1D, 2D) and slant.

Lengths that are not powers of two are zero-padded to ``m = next_pow2(n)``;
``pad="crop"`` returns the first ``n`` outputs (then ``inverse_transform`` is
the adjoint, not an inverse) and ``pad="keep"`` returns all ``m`` outputs
(exactly invertible; crop the reconstruction to ``n`` yourself).
"""

from __future__ import annotations

import torch

from . import functional as TF
from ._base import Transform
from ._common import check_choice, normalize_dims
from ._hadamard import PAD_MODES

__all__ = [
    "HadamardTransform",
    "HadamardTransform2D",
    "SequencyHadamardTransform",
    "SlantTransform",
]


class _Hadamard(Transform):
    """Shared options of the Walsh-Hadamard modules and the 1D transform along one dim."""

    _order = "natural"

    def __init__(self, normalized: bool = True, pad: str = "crop") -> None:
        super().__init__()
        self.normalized = bool(normalized)
        self.pad = check_choice(pad, "pad", PAD_MODES)

    def _along(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        return TF.fwht(x, dim, self.normalized, self.pad, self._order)

    def _inverse_along(self, X: torch.Tensor, dim: int) -> torch.Tensor:
        return TF.ifwht(X, dim, self.normalized, self.pad, self._order)

    def extra_repr(self) -> str:
        return f"normalized={self.normalized}, pad={self.pad!r}"


class HadamardTransform(_Hadamard):
    """Fast Walsh-Hadamard transform in natural (Sylvester) order.

    Parameters
    ----------
    normalized : bool
        Scale by ``1/sqrt(m)`` (orthonormal, self-inverse); otherwise equal to
        ``scipy.linalg.hadamard(m) @ x``.
    pad : {"crop", "keep"}
        Semantics for lengths that are not powers of two (see module docs).

    Notes
    -----
    ``O(m log m)`` in ``ceil(log2(m) / 5)`` batched-matmul stages with small
    Sylvester matrices.
    """

    def transform(self, x: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Transform along ``dim``."""
        return self._along(x, dim)

    def inverse_transform(self, X: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Inverse along ``dim`` (exact for power-of-two or ``pad="keep"`` lengths)."""
        return self._inverse_along(X, dim)


class SequencyHadamardTransform(HadamardTransform):
    """Walsh-Hadamard transform in sequency order: output ``s`` has ``s`` sign changes.

    Equals ``scipy.linalg.hadamard(m)[sequency_order(m)] @ x`` (scaled by
    ``1/sqrt(m)`` when normalised). Parameters as :class:`HadamardTransform`.
    """

    _order = "sequency"


class HadamardTransform2D(_Hadamard):
    """Separable 2D Walsh-Hadamard transform over two dims (default the last two).

    ``H_r X H_c^T`` with the 1D semantics (order, padding, scaling) per dim.
    Parameters as :class:`HadamardTransform`.
    """

    def transform(self, x: torch.Tensor, dim: tuple[int, int] = (-2, -1)) -> torch.Tensor:
        """2D transform over ``dim``."""
        rows, cols = normalize_dims(x, dim)
        return self._along(self._along(x, cols), rows)

    def inverse_transform(self, X: torch.Tensor, dim: tuple[int, int] = (-2, -1)) -> torch.Tensor:
        """2D inverse over ``dim``."""
        rows, cols = normalize_dims(X, dim)
        return self._inverse_along(self._inverse_along(X, rows), cols)


class SlantTransform(Transform):
    """Orthonormal slant transform (Pratt-Chen-Welch), power-of-two sizes.

    ``S_1 = [1]``, ``S_2 = [[1, 1], [1, -1]] / sqrt(2)`` and
    ``S_N = (1/sqrt 2) M_N diag(S_{N/2}, S_{N/2})`` with the sparse ``M_N``
    built from ``a_N = sqrt(3N^2 / (4(N^2 - 1)))`` and
    ``b_N = sqrt((N^2 - 4) / (4(N^2 - 1)))`` (see ``docs/transforms.md``).

    Parameters
    ----------
    pad : {"crop", "keep"}
        Semantics for lengths that are not powers of two (see module docs).

    Notes
    -----
    Applied without forming the matrix as ``C_m ... C_4 H_m / sqrt(m)``: a fast
    Walsh-Hadamard transform followed by sparse corrections touching three
    entries per block (``O(m)`` in total), ``O(m log m)`` overall. The inverse is
    the transpose.
    """

    def __init__(self, pad: str = "crop") -> None:
        super().__init__()
        self.pad = check_choice(pad, "pad", PAD_MODES)

    def transform(self, x: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Slant transform along ``dim``."""
        return TF.slant(x, dim, self.pad)

    def inverse_transform(self, X: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Inverse (transpose) along ``dim``."""
        return TF.islant(X, dim, self.pad)

    def extra_repr(self) -> str:
        return f"pad={self.pad!r}"
