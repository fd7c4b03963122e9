"""Fourier token mixers (FNet family): torch modules.

Every layer returns the real part of a DFT of its input, computed from real-input FFTs
and Hermitian symmetry (:func:`specdsl.library.fourier.spectral.real_dft`: about half the
work of a complex DFT, and nothing kept for backward). Only ``FourierMixing(keep_complex=True)``
and ``RealFourierMixing(use_real_fft=False)`` call ``torch.fft.fft2``.
"""

from __future__ import annotations

from typing import Self

import torch
from torch import Tensor, nn

from specdsl.library.fourier import FourierLayerConfig
from specdsl.library.fourier.checks import check_choice, check_dropout, check_int, check_positive
from specdsl.library.fourier.spectral import real_dft

FFT_NORMS = ("ortho", "forward", "backward")


class _FourierBase(nn.Module):
    """Shared arguments of the FNet-family mixers (they have no parameters).

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``; inputs are ``(B, N, D)``.
    dropout : float
        Dropout on the mixed output, in ``[0, 1)``.
    norm_eps, energy_tolerance : float
        Kept as attributes for API compatibility (> 0); the mixing does not use them.
    fft_norm : {"ortho", "forward", "backward"}
        DFT normalisation; ``"ortho"`` keeps the scale of the input.
    """

    def __init__(
        self,
        hidden_dim: int,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        energy_tolerance: float = 1e-4,
        fft_norm: str = "ortho",
    ):
        super().__init__()
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        self.norm_eps = check_positive("norm_eps", norm_eps)
        self.energy_tolerance = check_positive("energy_tolerance", energy_tolerance)
        self.fft_norm = check_choice("fft_norm", fft_norm, FFT_NORMS)
        self.dropout = nn.Dropout(check_dropout(dropout))

    @classmethod
    def from_config(cls, config: FourierLayerConfig) -> Self:
        """Build the module from its validated config."""
        return cls(**config.model_dump())

    def mix(self, x: Tensor) -> Tensor:
        """The mixing (without dropout) of a ``(B, N, D)`` input."""
        raise NotImplementedError

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix ``x`` of shape ``(B, N, D)``; ``mask`` is accepted and unused (the block
        zeroes padded positions before the mixer)."""
        return self.dropout(self.mix(x))


class FourierMixing(_FourierBase):
    """FNet token mixing: ``Re(FFT2(x))`` over the sequence and hidden axes.

    Computed as :class:`RealFourierMixing` does (one ``rfftn`` and a Hermitian gather);
    ``keep_complex=True`` runs ``torch.fft.fft2``.

    Parameters
    ----------
    hidden_dim, dropout, norm_eps, energy_tolerance, fft_norm
        As in the other FNet-family layers.
    keep_complex : bool
        Return the complex spectrum ``FFT2(x)`` instead of its real part (Python use only:
        a complex output cannot feed a residual block, so specs reject it).
    """

    def __init__(
        self,
        hidden_dim: int,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        energy_tolerance: float = 1e-4,
        fft_norm: str = "ortho",
        keep_complex: bool = False,
    ):
        super().__init__(hidden_dim, dropout, norm_eps, energy_tolerance, fft_norm)
        self.keep_complex = bool(keep_complex)

    def mix(self, x: Tensor) -> Tensor:
        if self.keep_complex:
            return torch.fft.fft2(x, dim=(-2, -1), norm=self.fft_norm)
        return real_dft(x, (x.dim() - 2, x.dim() - 1), self.fft_norm)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        mixed = self.mix(x)
        return mixed if self.keep_complex else self.dropout(mixed)


class FourierMixing1D(_FourierBase):
    """``Re(FFT_seq(x))``: the DFT over the sequence axis only (real FFT + symmetry)."""

    def mix(self, x: Tensor) -> Tensor:
        return real_dft(x, (x.dim() - 2,), self.fft_norm)


class RealFourierMixing(_FourierBase):
    """FNet mixing ``Re(FFT2(x))`` computed with real-input FFTs.

    ``rfft`` over the hidden axis, ``fft`` over the sequence on the ``D//2 + 1`` kept
    bins, then the other half of the real part by Hermitian symmetry
    (``Re X[k, l] = Re X[-k, D - l]``). The same function as :class:`FourierMixing`.

    Parameters
    ----------
    hidden_dim, dropout, norm_eps, energy_tolerance, fft_norm
        As in :class:`FourierMixing`.
    use_real_fft : bool
        False computes ``torch.fft.fft2(x).real`` instead (same values, more work).
    """

    def __init__(
        self,
        hidden_dim: int,
        use_real_fft: bool = True,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        energy_tolerance: float = 1e-4,
        fft_norm: str = "ortho",
    ):
        super().__init__(hidden_dim, dropout, norm_eps, energy_tolerance, fft_norm)
        self.use_real_fft = bool(use_real_fft)

    def mix(self, x: Tensor) -> Tensor:
        if self.use_real_fft:
            return real_dft(x, (x.dim() - 2, x.dim() - 1), self.fft_norm)
        return torch.fft.fft2(x, dim=(-2, -1), norm=self.fft_norm).real


class SeparableFourierMixing(_FourierBase):
    """``Re`` of the DFT over the hidden axis, the sequence axis, or both.

    Parameters
    ----------
    hidden_dim, dropout, norm_eps, energy_tolerance, fft_norm
        As in :class:`FourierMixing`.
    mix_features : bool
        Transform the hidden axis.
    mix_sequence : bool
        Transform the sequence axis. At least one of the two must be true.
    """

    def __init__(
        self,
        hidden_dim: int,
        mix_features: bool = True,
        mix_sequence: bool = True,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        energy_tolerance: float = 1e-4,
        fft_norm: str = "ortho",
    ):
        super().__init__(hidden_dim, dropout, norm_eps, energy_tolerance, fft_norm)
        if not (mix_features or mix_sequence):
            raise ValueError("mix_features and mix_sequence cannot both be false")
        self.mix_features = bool(mix_features)
        self.mix_sequence = bool(mix_sequence)

    def mix(self, x: Tensor) -> Tensor:
        seq, hidden = x.dim() - 2, x.dim() - 1
        dims = (seq,) * self.mix_sequence + (hidden,) * self.mix_features
        return real_dft(x, dims, self.fft_norm)


__all__ = ["FourierMixing", "FourierMixing1D", "RealFourierMixing", "SeparableFourierMixing"]
