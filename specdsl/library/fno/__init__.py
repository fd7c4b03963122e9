"""Fourier neural operator (FNO) layer: schema and cost formula (torch-free).

``y = act(K x + W x)``: ``K`` a spectral convolution keeping ``modes`` sequence
frequencies with a complex ``D x D`` weight per mode, ``W`` a pointwise linear map.
``use_2d=true`` lays the tokens on a ``spatial_dim x spatial_dim`` grid (row-major, zero
padded) and makes ``K`` a 2-D spectral convolution. ``causal=true`` replaces ``K`` by an
exactly causal convolution with the causal half of its impulse response at
``max_sequence_length`` (docs/layers/fourier_family.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field, model_validator

from specdsl.library.base import Cost, Dims, LayerConfig, fft_flops, linear_cost, register_layer
from specdsl.library.fourier.costs import causal_conv_cost, pair_matmul_flops

FNOActivation = Literal["gelu", "relu", "silu", "tanh", "identity"]

#: How many times more FLOP/s a matrix product runs than a real FFT: the 1-D spectral
#: convolution transforms by matrix products while their FLOPs stay under this multiple
#: of the FFTs' (:func:`uses_truncated_dft`). Measured on one CPU thread (B = 8, D = 256):
#: the products stay faster up to about 17x the FFTs' FLOPs at n = 512, beyond 16x at
#: n = 8192.
GEMM_OVER_FFT = 16


def uses_truncated_dft(n: int, kept: int) -> bool:
    """Whether :class:`SpectralConv1d` computes its ``kept`` bins of a length-``n`` input
    (and the inverse) as matrix products with the truncated DFT: ``4 kept n`` FLOPs per
    channel and direction, against ``GEMM_OVER_FFT`` times a real FFT's ``2.5 n log2 n``
    (so for ``kept <= 10 log2 n``: always for a fixed ``modes`` once ``n`` is large)."""
    return 4 * kept * n <= GEMM_OVER_FFT * fft_flops(n, real=True)


def spectral_input_kept(n: int, modes: int) -> bool:
    """Whether :class:`SpectralConv1d` keeps its input for backward at length ``n``: its
    ``rfft`` does (the FFT path); the truncated-DFT products with constants do not."""
    return not uses_truncated_dft(n, min(modes, n // 2 + 1))


def _mode_products(
    batch: int, kept: int, c_in: int, c_out: int, dtype_bytes: int, weight_copies: bool = False
) -> Cost:
    """The complex ``c_in x c_out`` product of every kept mode, two real batched products
    (``_spectral.mode_product``): :func:`pair_matmul_flops` per mode, one subtraction and
    one addition per complex output value. Kept for backward: the ``(kept, 2B, c_in)``
    copy of the spectrum and, with ``weight_copies``, the real and imaginary weights of
    the kept modes (copied when the kept modes are not contiguous in the parameter)."""
    weights = 2 * kept * c_in * c_out if weight_copies else 0
    return Cost(
        matmul_flops=pair_matmul_flops(batch, c_in, c_out) * kept,
        other_flops=2 * batch * kept * c_out,
        activation_bytes=(2 * batch * kept * c_in + weights) * dtype_bytes,
    )


def spectral_conv_cost(
    batch: int, n: int, c_in: int, c_out: int, modes: int, dtype_bytes: int = 4
) -> Cost:
    """:class:`SpectralConv1d` on ``(batch, n, c_in)``: the ``kept`` lowest bins of every
    input channel, one complex ``c_in x c_out`` product per kept mode, the inverse for
    every output channel.

    The transforms are matrix products with the truncated DFT when
    :func:`uses_truncated_dft` (``2 batch (2 kept) n c`` FLOPs each way, ``O(n)`` at a
    fixed number of modes), else a real FFT per channel each way. The input, which the
    ``rfft`` keeps (:func:`spectral_input_kept`), is not counted here: the caller knows
    whether the same tensor is kept anyway.
    """
    kept = min(modes, n // 2 + 1)
    products = _mode_products(batch, kept, c_in, c_out, dtype_bytes)
    if uses_truncated_dft(n, kept):
        transforms = Cost(matmul_flops=4 * batch * kept * n * (c_in + c_out))
    else:
        other = batch * (c_in + c_out) * fft_flops(n, real=True)
        transforms = Cost(other_flops=other, complexity="O(n log n)")
    return Cost(params=2 * c_in * c_out * modes) + products + transforms


def causal_spectral_cost(
    batch: int, n: int, c_in: int, c_out: int, modes: int, length: int, dtype_bytes: int = 4
) -> Cost:
    """Causal :class:`SpectralConv1d`: the kernel ``irfft`` (``c_in c_out`` transforms of
    ``length``, a ``(ceil(length/2), c_in, c_out)`` kernel) and the exact causal convolution
    with it.

    Nothing is kept for backward: the convolution runs under activation checkpointing
    (the kernel and every tensor derived from it are recomputed in the backward pass);
    the input it keeps is counted where it is shared (see
    :meth:`FourierNeuralOperatorConfig.cost`).
    """
    kernel = Cost(
        params=2 * c_in * c_out * modes,
        other_flops=c_in * c_out * fft_flops(length, real=True),
    )
    conv = causal_conv_cost(batch, n, c_in, c_out, dtype_bytes)
    return kernel + replace(conv, activation_bytes=0)


def spectral_conv2d_cost(
    batch: int, side: int, c_in: int, c_out: int, modes: int, dtype_bytes: int = 4
) -> Cost:
    """:class:`SpectralConv2d` on a ``side x side`` grid: ``rfft2`` per input channel (real
    FFTs along rows, complex ones along the ``side//2 + 1`` kept columns), one complex
    product per retained mode (``min(modes, ceil(side/2)) + min(modes, side//2)`` rows
    times ``min(modes, side//2 + 1)`` columns), ``irfft2`` per output channel.

    Kept for backward: the input grid (``rfft2`` keeps it), the retained spectrum as real
    pairs and, when fewer than ``modes`` columns exist (``side // 2 + 1 < modes``), the
    copied weights of the retained modes.
    """
    rows = min(modes, (side + 1) // 2) + min(modes, side // 2)
    cols = min(modes, side // 2 + 1)
    kept = rows * cols
    per_channel = side * fft_flops(side, real=True) + (side // 2 + 1) * fft_flops(side)
    transforms = Cost(
        params=4 * c_in * c_out * modes * modes,
        other_flops=batch * (c_in + c_out) * per_channel,
        complexity="O(n log n)",
    )
    grid = Cost(activation_bytes=batch * side * side * c_in * dtype_bytes)
    return transforms + grid + _mode_products(batch, kept, c_in, c_out, dtype_bytes, cols < modes)


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
        """Both paths, their sum and the activation.

        Kept for backward: the input (once: by the linear path, the ``rfft`` of the 1-D
        FFT path or the checkpointed causal convolution; the 2-D path keeps its own padded
        grid), what the spectral path keeps, and the activation's input or output
        (``B N D`` values unless ``identity``).
        """
        b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
        tokens = b * n * d
        spectral, one_d = self.use_spectral_conv, not self.use_2d
        keeps_input = self.use_linear or (
            spectral and one_d and (self.causal or spectral_input_kept(n, self.modes))
        )
        kept = tokens * (int(keeps_input) + int(self.activation != "identity"))
        total = Cost(other_flops=tokens, activation_bytes=kept * dims.dtype_bytes)
        if spectral and self.use_2d and self.spatial_dim is not None:
            total += spectral_conv2d_cost(b, self.spatial_dim, d, d, self.modes, dims.dtype_bytes)
        elif spectral and self.causal:
            length = self.max_sequence_length or n
            total += causal_spectral_cost(b, n, d, d, self.modes, length, dims.dtype_bytes)
        elif spectral:
            total += spectral_conv_cost(b, n, d, d, self.modes, dims.dtype_bytes)
        if self.use_linear:  # its input is counted above
            total += replace(linear_cost(dims, d, d), activation_bytes=0)
        if spectral and self.use_linear:
            total += Cost(other_flops=tokens)  # the sum of both paths
        return total


__all__ = ["FourierNeuralOperatorConfig"]
