"""Fourier transforms (thin ``torch.fft`` wrappers) and FFT-based spectral pooling."""

from __future__ import annotations

import torch

from ._base import Transform
from ._common import along_dim, check_choice, check_int, check_real_float

__all__ = ["FFT1D", "FFT2D", "RFFT", "RFFT2D", "SpectralPooling"]

FFT_NORMS = ("ortho", "backward", "forward")
Dims2 = tuple[int, int]


class _Fourier(Transform):
    """Shared ``norm`` handling of the Fourier wrappers."""

    def __init__(self, norm: str = "ortho") -> None:
        super().__init__()
        self.norm = check_choice(norm, "norm", FFT_NORMS)

    def extra_repr(self) -> str:
        return f"norm={self.norm!r}"


class FFT1D(_Fourier):
    """Complex FFT along one dimension (``torch.fft.fft``).

    Parameters
    ----------
    norm : {"ortho", "backward", "forward"}
        As in ``torch.fft``/``scipy.fft``; ``"ortho"`` is unitary (Parseval).

    Notes
    -----
    Real or complex input; the output is complex with the input's precision
    (float32 -> complex64, float64 -> complex128). ``O(n log n)`` for any ``n``.
    """

    def transform(self, x: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """FFT of ``x`` along ``dim``."""
        return torch.fft.fft(x, dim=dim, norm=self.norm)

    def inverse_transform(self, X: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Inverse FFT (complex output; take ``.real`` for real signals)."""
        return torch.fft.ifft(X, dim=dim, norm=self.norm)


class FFT2D(_Fourier):
    """Complex 2D FFT over two dimensions (default the last two), ``torch.fft.fft2``."""

    def transform(self, x: torch.Tensor, dim: Dims2 = (-2, -1)) -> torch.Tensor:
        """2D FFT of ``x`` over ``dim``."""
        return torch.fft.fft2(x, dim=dim, norm=self.norm)

    def inverse_transform(self, X: torch.Tensor, dim: Dims2 = (-2, -1)) -> torch.Tensor:
        """Inverse 2D FFT (complex output)."""
        return torch.fft.ifft2(X, dim=dim, norm=self.norm)


class RFFT(_Fourier):
    """Real-input FFT along one dimension: ``n`` real samples -> ``n // 2 + 1`` bins."""

    def transform(self, x: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """One-sided spectrum of the real signal ``x`` along ``dim``."""
        check_real_float(x)
        return torch.fft.rfft(x, dim=dim, norm=self.norm)

    def inverse_transform(
        self, X: torch.Tensor, n: int | None = None, dim: int = -1
    ) -> torch.Tensor:
        """Real signal of length ``n`` (default ``2 * (bins - 1)``; pass ``n`` for odd lengths)."""
        return torch.fft.irfft(X, n=n, dim=dim, norm=self.norm)


class RFFT2D(_Fourier):
    """Real-input 2D FFT; the last of ``dim`` is one-sided (``torch.fft.rfft2``)."""

    def transform(self, x: torch.Tensor, dim: Dims2 = (-2, -1)) -> torch.Tensor:
        """2D one-sided spectrum of the real ``x`` over ``dim``."""
        check_real_float(x)
        return torch.fft.rfft2(x, dim=dim, norm=self.norm)

    def inverse_transform(
        self, X: torch.Tensor, s: Dims2 | None = None, dim: Dims2 = (-2, -1)
    ) -> torch.Tensor:
        """Real 2D signal of size ``s`` (pass ``s`` when the last size is odd)."""
        return torch.fft.irfft2(X, s=s, dim=dim, norm=self.norm)


def _resample_last(x: torch.Tensor, size: int) -> torch.Tensor:
    n = x.shape[-1]
    kept = min(n, size)
    spec = torch.fft.rfft(x, dim=-1, norm="forward")[..., : kept // 2 + 1]
    if kept % 2 == 0 and size != n:  # unpaired Nyquist bin: unite or split the pair
        spec = torch.cat((spec[..., :-1], spec[..., -1:] * (2.0 if size < n else 0.5)), -1)
    return torch.fft.irfft(spec, n=size, dim=-1, norm="forward")


class SpectralPooling(Transform):
    """Resample a real signal to ``output_size`` samples by FFT truncation.

    Keeps the lowest ``output_size`` frequencies (bins ``|k| <= output_size // 2``)
    and returns the real signal of length ``output_size`` they describe, with the
    amplitude preserved (a constant stays the same constant). This is exactly
    ``scipy.signal.resample(x, output_size, axis=dim)``, including its
    treatment of an even-length Nyquist bin; an ``output_size`` larger than the
    input zero-pads the spectrum (band-limited upsampling).

    Parameters
    ----------
    output_size : int
        Output length along ``dim`` (``>= 1``).

    Notes
    -----
    ``O(n log n)``; not invertible when ``output_size < n`` (no ``inverse_transform``).
    """

    def __init__(self, output_size: int) -> None:
        super().__init__()
        self.output_size = check_int(output_size, "output_size", 1)

    def transform(self, x: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Resample ``x`` along ``dim`` to ``output_size`` samples."""
        check_real_float(x)
        return along_dim(_resample_last, x, dim, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
