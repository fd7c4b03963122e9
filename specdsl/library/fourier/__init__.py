"""Fourier token mixers (FNet family): schemas and cost formulas."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from specdsl.library.base import Cost, Dims, LayerConfig, fft_flops, register_layer

FFTNorm = Literal["ortho", "forward", "backward"]


@register_layer(
    "fourier",
    module="specdsl.library.fourier.modules:FourierMixing",
    family="fourier",
    positional=("fft_norm",),
    math="y = Re(FFT_seq(FFT_hidden(x)))",
    reference="Lee-Thorp et al., FNet: Mixing Tokens with Fourier Transforms, NAACL 2022",
    causal="the 2-D DFT mixes every position with every other",
)
class FourierMixingConfig(LayerConfig):
    """FNet token mixing: the real part of the 2-D DFT over sequence and hidden."""

    hidden_dim: int = Field(gt=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    norm_eps: float = Field(default=1e-5, gt=0.0)
    energy_tolerance: float = Field(default=1e-4, gt=0.0)
    fft_norm: FFTNorm = "ortho"
    keep_complex: bool = False

    def cost(self, dims: Dims) -> Cost:
        n, d = dims.seq_len, dims.hidden_dim
        # One complex 2-D FFT of n*d points per sequence (5 N log2 N, N = n*d).
        return Cost(
            other_flops=dims.batch * fft_flops(n * d),
            activation_bytes=0,
            complexity="O(n log n)",
        )


__all__ = ["FourierMixingConfig"]
