"""Discrete wavelet transform modules matching ``pywt.wavedec``/``pywt.wavedec2``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from . import functional as TF
from ._base import Transform
from ._common import check_int
from ._dwt import MODES, SUPPORTED_WAVELETS, check_mode, check_wavelet

__all__ = ["DWT1D", "DWT2D", "MODES", "SUPPORTED_WAVELETS"]

Details2D = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class _Wavelet(Transform):
    """Shared wavelet/levels/mode validation."""

    # implemented by the subclasses; declared here for type checkers
    decompose: Callable[..., Any]
    reconstruct: Callable[..., torch.Tensor]

    def __init__(
        self, wavelet: str = "db4", levels: int | None = 1, mode: str = "symmetric"
    ) -> None:
        super().__init__()
        self.wavelet = check_wavelet(wavelet)
        self.levels = None if levels is None else check_int(levels, "levels", 0)
        self.mode = check_mode(mode)

    def transform(self, x: torch.Tensor, *args, **kwargs):
        """Alias of ``decompose``."""
        return self.decompose(x, *args, **kwargs)

    def inverse_transform(self, coeffs, *args, **kwargs) -> torch.Tensor:
        """Alias of ``reconstruct``."""
        return self.reconstruct(coeffs, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"wavelet={self.wavelet!r}, levels={self.levels}, mode={self.mode!r}"


class DWT1D(_Wavelet):
    """Multilevel 1D discrete wavelet transform along one dimension.

    Parameters
    ----------
    wavelet : str
        One of :data:`SUPPORTED_WAVELETS` (``haar``, ``db1``-``db8``,
        ``sym2``-``sym8``, ``coif1``-``coif5``, ``bior1.1``-``bior2.8``); the
        filters are those of ``pywt.Wavelet(wavelet)``.
    levels : int or None
        Number of levels, ``0 <= levels <= pywt.dwt_max_level(n, filter_len)``
        (checked per input); ``None`` uses that maximum.
    mode : str
        Signal extension, one of :data:`MODES` (pywt semantics).

    Notes
    -----
    Each level is one matrix product over all batch rows (stride-2 windows of ``F``
    samples times an ``(F, 2)`` filter matrix): ``O(n F)`` total.
    """

    def decompose(self, x: torch.Tensor, dim: int = -1) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(cA_J, [cD_J, ..., cD_1])``, as ``pywt.wavedec`` (coarsest detail first)."""
        return TF.wavedec(x, self.wavelet, self.mode, self.levels, dim)

    def reconstruct(
        self,
        coeffs: tuple[torch.Tensor, Sequence[torch.Tensor]],
        output_len: int | None = None,
        dim: int = -1,
    ) -> torch.Tensor:
        """Inverse of :meth:`decompose` (as ``pywt.waverec``), cropped to ``output_len``."""
        return TF.waverec(coeffs, self.wavelet, self.mode, dim, output_len)


class DWT2D(_Wavelet):
    """Multilevel separable 2D DWT over two dimensions (default the last two).

    Parameters are as in :class:`DWT1D`; the level limit is the minimum over
    both dimensions, as ``pywt.wavedec2``.
    """

    def decompose(
        self, x: torch.Tensor, dim: tuple[int, int] = (-2, -1)
    ) -> tuple[torch.Tensor, list[Details2D]]:
        """``(cA_J, [(cH_J, cV_J, cD_J), ..., (cH_1, cV_1, cD_1)])``, as ``pywt.wavedec2``."""
        return TF.wavedec2(x, self.wavelet, self.mode, self.levels, dim)

    def reconstruct(
        self,
        coeffs: tuple[torch.Tensor, Sequence[Details2D]],
        output_len: tuple[int, int] | None = None,
        dim: tuple[int, int] = (-2, -1),
    ) -> torch.Tensor:
        """Inverse of :meth:`decompose` (as ``pywt.waverec2``), cropped to ``output_len``."""
        return TF.waverec2(coeffs, self.wavelet, self.mode, dim, output_len)
