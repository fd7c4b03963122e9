"""Cosine-family transform modules: DCT, DST, 2D DCT and the lapped MDCT."""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import functional as TF
from ._base import Transform
from ._common import check_choice, normalize_dims
from ._mdct import WINDOWS

__all__ = ["DCT", "DCT2D", "DST", "MDCT"]


class _Trig(Transform):
    """Shared ``normalized`` handling of the orthonormal-or-unscaled DCT/DST modules."""

    def __init__(self, normalized: bool = True) -> None:
        super().__init__()
        self.normalized = bool(normalized)

    @property
    def norm(self) -> str | None:
        """The scipy ``norm`` argument equivalent to ``normalized``."""
        return "ortho" if self.normalized else None

    def extra_repr(self) -> str:
        return f"normalized={self.normalized}"


class _Trig1D(_Trig):
    """A DCT/DST along one dimension: ``_forward``/``_inverse`` are the functional pair."""

    _forward: Callable[..., torch.Tensor]
    _inverse: Callable[..., torch.Tensor]

    def transform(self, x: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Forward transform along ``dim``."""
        return type(self)._forward(x, dim, self.norm)

    def inverse_transform(self, X: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Exact inverse along ``dim``."""
        return type(self)._inverse(X, dim, self.norm)


class DCT(_Trig1D):
    """DCT-II (inverse: scaled DCT-III), ``scipy.fft.dct(type=2)``.

    Parameters
    ----------
    normalized : bool
        ``True``: orthonormal (``norm="ortho"``, energy preserving);
        ``False``: ``y[k] = 2 sum_n x[n] cos(pi k (2n + 1) / (2N))``.

    Notes
    -----
    One FFT of the same length (Makhoul), ``O(n log n)`` for any ``n >= 1``.
    """

    _forward = staticmethod(TF.dct)
    _inverse = staticmethod(TF.idct)


class DST(_Trig1D):
    """DST-II (inverse: scaled DST-III), ``scipy.fft.dst(type=2)``.

    Parameters
    ----------
    normalized : bool
        ``True``: orthonormal (``norm="ortho"``); ``False``: scipy's unscaled DST-II.

    Notes
    -----
    ``O(n log n)`` for any ``n >= 1`` via the DCT-II FFT path.
    """

    _forward = staticmethod(TF.dst)
    _inverse = staticmethod(TF.idst)


class DCT2D(_Trig):
    """Separable 2D DCT-II over two dimensions (default the last two).

    Equals ``scipy.fft.dctn(x, type=2, norm=..., axes=dim)``; ``O(hw log(hw))``.
    """

    def transform(self, x: torch.Tensor, dim: tuple[int, int] = (-2, -1)) -> torch.Tensor:
        """2D DCT-II over ``dim``."""
        rows, cols = normalize_dims(x, dim)
        return TF.dct(TF.dct(x, cols, self.norm), rows, self.norm)

    def inverse_transform(self, X: torch.Tensor, dim: tuple[int, int] = (-2, -1)) -> torch.Tensor:
        """Exact inverse over ``dim``."""
        rows, cols = normalize_dims(X, dim)
        return TF.idct(TF.idct(X, rows, self.norm), cols, self.norm)


class MDCT(Transform):
    """Modified DCT with 50% overlapping windowed frames and TDAC reconstruction.

    Parameters
    ----------
    block_size : int
        Frame length ``2N`` (even, ``>= 2``); hop size and coefficients per
        frame are ``N = block_size // 2``.
    window : {"sine", "vorbis", "kbd"}
        Princen-Bradley analysis/synthesis window.
    normalized : bool
        ``False``: ``X_k = sum_{n<2N} x_n w_n cos(pi/N (n + 1/2 + N/2)(k + 1/2))``;
        ``True``: times ``sqrt(2/N)`` (orthogonal lapped transform).

    Notes
    -----
    Framing: a signal of length ``L`` gets ``N`` zeros in front and zeros at the
    end up to ``(F + 1) N`` samples, ``F = ceil(L / N) + 1``, so every sample is
    covered by two frames. ``transform`` maps ``(..., L)`` to ``(..., F, N)``
    (``dim`` is replaced by the two dims). Each frame costs ``O(N log N)``: a
    sign fold of the ``2N`` samples into ``N`` followed by an FFT-based DCT-IV
    (``N`` even) or DCT-III (``N`` odd).
    """

    def __init__(self, block_size: int, window: str = "sine", normalized: bool = False) -> None:
        super().__init__()
        self.block_size = TF.check_block_size(block_size)
        self.window = check_choice(window, "window", WINDOWS)
        self.normalized = bool(normalized)

    def transform(self, x: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Frame and transform ``x`` along ``dim``: ``(..., L)`` -> ``(..., F, N)``."""
        return TF.mdct(x, self.block_size, dim, self.window, self.normalized)

    def inverse_transform(
        self, X: torch.Tensor, length: int | None = None, dim: int = -1
    ) -> torch.Tensor:
        """IMDCT + overlap-add: ``(..., F, N)`` -> ``(..., length)`` (coefficients at ``dim``)."""
        if X.dim() and X.shape[dim] != self.block_size // 2:
            raise ValueError(
                f"expected {self.block_size // 2} coefficients along dim {dim}, got {X.shape[dim]}"
            )
        return TF.imdct(X, dim, length, self.window, self.normalized)

    def extra_repr(self) -> str:
        return f"block_size={self.block_size}, window={self.window!r}, normalized={self.normalized}"
