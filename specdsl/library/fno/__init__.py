"""Fourier neural operator (FNO) layer: schema and cost formula (torch-free).

``y = act(K x + W x)``: ``K`` a spectral convolution keeping ``modes`` sequence
frequencies with a complex ``D x D`` weight per mode, ``W`` a pointwise linear map.
``use_2d=true`` lays the tokens on a ``spatial_dim x spatial_dim`` grid (row-major, zero
padded) and makes ``K`` a 2-D spectral convolution. ``causal=true`` replaces ``K`` by an
exactly causal convolution with the causal half of its impulse response at
``max_sequence_length`` (docs/layers/fourier_family.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from specdsl.library.base import Cost, Dims, LayerConfig, fft_flops, linear_cost, register_layer
from specdsl.library.fourier.costs import causal_conv_cost, pair_matmul_flops

FNOActivation = Literal["gelu", "relu", "silu", "tanh", "identity"]


def spectral_conv_cost(
    batch: int, n: int, c_in: int, c_out: int, modes: int, dtype_bytes: int = 4
) -> Cost:
    """:class:`SpectralConv1d` on ``(batch, n, c_in)``: rfft per input channel, one complex
    ``c_in x c_out`` product per retained mode (a pair matmul), irfft per output channel."""
    kept = min(modes, n // 2 + 1)
    return Cost(
        params=2 * c_in * c_out * modes,
        matmul_flops=pair_matmul_flops(batch, c_in, c_out) * kept,
        other_flops=batch * (c_in + c_out) * fft_flops(n, real=True),
        activation_bytes=2 * batch * kept * c_in * dtype_bytes,  # the kept spectrum
        complexity="O(n log n)",
    )


def causal_spectral_cost(
    batch: int, n: int, c_in: int, c_out: int, modes: int, length: int, dtype_bytes: int = 4
) -> Cost:
    """Causal :class:`SpectralConv1d`: the kernel ``irfft`` (``c_in c_out`` transforms of
    ``length``, a ``(ceil(length/2), c_in, c_out)`` kernel) and the exact causal convolution
    with it."""
    kernel = Cost(
        params=2 * c_in * c_out * modes,
        other_flops=c_in * c_out * fft_flops(length, real=True),
        activation_bytes=(length + 1) // 2 * c_in * c_out * dtype_bytes,
    )
    return kernel + causal_conv_cost(batch, n, c_in, c_out, dtype_bytes)


def spectral_conv2d_cost(
    batch: int, side: int, c_in: int, c_out: int, modes: int, dtype_bytes: int = 4
) -> Cost:
    """:class:`SpectralConv2d` on a ``side x side`` grid: ``rfft2`` per input channel (real
    FFTs along rows, complex ones along the ``side//2 + 1`` kept columns), one pair matmul
    per retained mode (``min(modes, ceil(side/2)) + min(modes, side//2)`` rows times
    ``min(modes, side//2 + 1)`` columns), ``irfft2`` per output channel."""
    rows = min(modes, (side + 1) // 2) + min(modes, side // 2)
    kept = rows * min(modes, side // 2 + 1)
    per_channel = side * fft_flops(side, real=True) + (side // 2 + 1) * fft_flops(side)
    return Cost(
        params=4 * c_in * c_out * modes * modes,
        matmul_flops=pair_matmul_flops(batch, c_in, c_out) * kept,
        other_flops=batch * (c_in + c_out) * per_channel,
        activation_bytes=2 * batch * kept * c_in * dtype_bytes,
        complexity="O(n log n)",
    )


@register_layer(
    "fno",
    module="specdsl.library.fno.modules:FourierNeuralOperator",
    family="fno",
    positional=("modes",),
    context={"hidden_dim": "hidden_dim", "max_sequence_length": "max_sequence_length"},
    math="y = act(irfft(R * trunc_modes(rfft_seq(x))) + W x)",
    reference="Li et al., Fourier Neural Operator for Parametric Partial Differential "
    "Equations, ICLR 2021",
)
class FourierNeuralOperatorConfig(LayerConfig):
    """FNO layer: spectral convolution on the lowest modes plus a pointwise linear path."""

    hidden_dim: int = Field(gt=0)
    modes: int = Field(default=16, gt=0)
    activation: FNOActivation = "gelu"
    use_spectral_conv: bool = True
    use_linear: bool = True
    causal: bool = False
    use_2d: bool = False
    spatial_dim: int | None = Field(default=None, gt=0)
    max_sequence_length: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> FourierNeuralOperatorConfig:
        if not (self.use_spectral_conv or self.use_linear):
            raise ValueError("use_spectral_conv and use_linear cannot both be false")
        if self.use_2d and self.spatial_dim is None:
            raise ValueError("use_2d=true needs spatial_dim (the side of the token grid)")
        if self.use_2d and self.causal:
            raise ValueError("use_2d=true cannot be causal: the grid convolution is circular")
        side, length = self.spatial_dim, self.max_sequence_length
        if self.use_2d and side is not None and length is not None and length > side * side:
            raise ValueError(
                f"use_2d=true needs max_sequence_length ({length})"
                f" <= spatial_dim**2 ({side * side})"
            )
        return self

    def cost(self, dims: Dims) -> Cost:
        b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
        total = Cost(other_flops=b * n * d)  # the activation
        if self.use_spectral_conv:
            if self.use_2d and self.spatial_dim is not None:
                total += spectral_conv2d_cost(
                    b, self.spatial_dim, d, d, self.modes, dims.dtype_bytes
                )
            elif self.causal:
                length = self.max_sequence_length or n
                total += causal_spectral_cost(b, n, d, d, self.modes, length, dims.dtype_bytes)
            else:
                total += spectral_conv_cost(b, n, d, d, self.modes, dims.dtype_bytes)
        if self.use_linear:
            total += linear_cost(dims, d, d)
        if self.use_spectral_conv and self.use_linear:
            total += Cost(other_flops=b * n * d)  # the sum of both paths
        return total


__all__ = ["FourierNeuralOperatorConfig"]
