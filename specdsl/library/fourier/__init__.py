"""Fourier token mixers (FNet family): schemas and cost formulas.

All four layers compute the real part of a DFT of the input (no parameters). FLOP counts
follow docs/layers/fourier_family.md: ``fft_flops(N)`` = ``5 N log2 N`` for a complex FFT,
``fft_flops(N, real=True)`` = ``2.5 N log2 N`` for a real-input one, per transform.
The transforms keep nothing for backward: the real part of a DFT is a symmetric linear
map whose gradient is the same map of the output gradient
(``specdsl.library.fourier.spectral.real_dft``; ``fft2`` on a real input keeps nothing
either). Only the layer's own dropout keeps its mask.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from specdsl.library.base import Cost, Dims, LayerConfig, fft_flops, register_layer
from specdsl.library.blocks import dropout_cost

FFTNorm = Literal["ortho", "forward", "backward"]
_REFERENCE = "Lee-Thorp et al., FNet: Mixing Tokens with Fourier Transforms, NAACL 2022"
_NOT_CAUSAL = "the DFT over the sequence mixes every position with every other"


def real_dft_flops(dims: Dims, sequence: bool, hidden: bool) -> int:
    """FLOPs of ``Re(DFT)`` over the chosen axes computed from real-input FFTs.

    The last transformed axis uses a real FFT on every row; the sequence axis, when it is
    not the only one, is a complex FFT on the ``D//2 + 1`` retained hidden bins. The
    Hermitian completion is a gather (no FLOPs).
    """
    b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
    if hidden and sequence:
        return b * (n * fft_flops(d, real=True) + (d // 2 + 1) * fft_flops(n))
    if hidden:
        return b * n * fft_flops(d, real=True)
    return b * d * fft_flops(n, real=True)


def fft2_flops(dims: Dims) -> int:
    """FLOPs of ``torch.fft.fft2`` on real input: real FFTs over hidden (``n`` rows), then
    complex FFTs over the sequence on all ``d`` columns (the full spectrum)."""
    b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
    return b * (n * fft_flops(d, real=True) + d * fft_flops(n))


class FourierLayerConfig(LayerConfig):
    """Fields shared by the FNet-family layers."""

    hidden_dim: int = Field(gt=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    norm_eps: float = Field(default=1e-5, gt=0.0)
    energy_tolerance: float = Field(default=1e-4, gt=0.0)
    fft_norm: FFTNorm = "ortho"

    def mixing_cost(self, dims: Dims, other_flops: int) -> Cost:
        """The transforms keep nothing for backward; the layer's own dropout keeps its mask."""
        mixing = Cost(other_flops=other_flops, complexity="O(n log n)")
        return mixing + dropout_cost(dims, self.dropout)


@register_layer(
    "fourier",
    module="specdsl.library.fourier.modules:FourierMixing",
    family="fourier",
    positional=("fft_norm",),
    math="y = Re(FFT_seq(FFT_hidden(x)))",
    reference=_REFERENCE,
    causal="the 2-D DFT mixes every position with every other",
)
class FourierMixingConfig(FourierLayerConfig):
    """FNet token mixing: the real part of the 2-D DFT over sequence and hidden."""

    keep_complex: bool = False

    @model_validator(mode="after")
    def _real_output(self) -> FourierMixingConfig:
        if self.keep_complex:
            raise ValueError(
                "keep_complex=true returns the complex spectrum, which cannot feed the residual"
                " block; use FourierMixing(keep_complex=True) from Python instead"
            )
        return self

    def cost(self, dims: Dims) -> Cost:
        return self.mixing_cost(dims, real_dft_flops(dims, sequence=True, hidden=True))


@register_layer(
    "fourier_1d",
    module="specdsl.library.fourier.modules:FourierMixing1D",
    family="fourier",
    positional=("fft_norm",),
    math="y = Re(FFT_seq(x))",
    reference=_REFERENCE,
    causal=_NOT_CAUSAL,
)
class FourierMixing1DConfig(FourierLayerConfig):
    """Real part of the DFT over the sequence axis only."""

    def cost(self, dims: Dims) -> Cost:
        return self.mixing_cost(dims, real_dft_flops(dims, sequence=True, hidden=False))


@register_layer(
    "real_fourier",
    module="specdsl.library.fourier.modules:RealFourierMixing",
    family="fourier",
    positional=("fft_norm",),
    math="y = Re(FFT_seq(FFT_hidden(x))) via rfft over hidden + Hermitian symmetry",
    reference=_REFERENCE,
    causal="the 2-D DFT mixes every position with every other",
)
class RealFourierMixingConfig(FourierLayerConfig):
    """FNet mixing computed with real-input FFTs (same function as ``fourier``)."""

    use_real_fft: bool = True

    def cost(self, dims: Dims) -> Cost:
        if not self.use_real_fft:
            return self.mixing_cost(dims, fft2_flops(dims))
        return self.mixing_cost(dims, real_dft_flops(dims, sequence=True, hidden=True))


@register_layer(
    "fourier_separable",
    module="specdsl.library.fourier.modules:SeparableFourierMixing",
    family="fourier",
    math="y = Re(FFT_seq?(FFT_hidden?(x)))",
    reference=_REFERENCE,
    causal=_NOT_CAUSAL,
)
class SeparableFourierMixingConfig(FourierLayerConfig):
    """Real part of the DFT over the hidden axis, the sequence axis, or both."""

    mix_features: bool = True
    mix_sequence: bool = True

    @model_validator(mode="after")
    def _some_axis(self) -> SeparableFourierMixingConfig:
        if not (self.mix_features or self.mix_sequence):
            raise ValueError(
                "mix_features and mix_sequence cannot both be false (the layer would mix nothing)"
            )
        return self

    def cost(self, dims: Dims) -> Cost:
        return self.mixing_cost(dims, real_dft_flops(dims, self.mix_sequence, self.mix_features))


__all__ = [
    "FourierLayerConfig",
    "FourierMixing1DConfig",
    "FourierMixingConfig",
    "RealFourierMixingConfig",
    "SeparableFourierMixingConfig",
]
