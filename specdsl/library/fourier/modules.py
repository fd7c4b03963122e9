"""Fourier token mixers (FNet family): torch modules."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from specdsl.library.fourier import FourierMixingConfig


class FourierMixing(nn.Module):
    """FNet token mixing: ``Re(FFT2(x))`` over the sequence and hidden axes.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``; input is ``(B, N, D)``.
    dropout : float
        Dropout on the mixed output.
    norm_eps, energy_tolerance : float
        Kept as attributes for API compatibility (FNet has no parameters).
    fft_norm : {"ortho", "forward", "backward"}
        Normalisation of the DFT; "ortho" keeps the output scale of the input.
    keep_complex : bool
        Return the complex spectrum instead of its real part.
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
        super().__init__()
        self.hidden_dim = hidden_dim
        self.norm_eps = norm_eps
        self.energy_tolerance = energy_tolerance
        self.fft_norm = fft_norm
        self.keep_complex = keep_complex
        self.dropout = nn.Dropout(dropout)

    @classmethod
    def from_config(cls, config: FourierMixingConfig) -> FourierMixing:
        return cls(**config.model_dump())

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        spectrum = torch.fft.fft2(x, dim=(-2, -1), norm=self.fft_norm)
        if self.keep_complex:
            return spectrum
        return self.dropout(spectrum.real)


__all__ = ["FourierMixing"]
