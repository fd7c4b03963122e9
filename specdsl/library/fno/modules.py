"""Fourier neural operator layers: spectral convolutions, the FNO token mixer and block.

Complex weights are stored as real pairs (index 0 real part, 1 imaginary part) and the
complex products run as one real ``einsum`` each
(:func:`specdsl.library.fourier.spectral.pair_matmul`), so ``FlopCounterMode`` measures
the full real work. Inputs are channels-last: ``(B, N, C)`` and ``(B, H, W, C)``.
"""

from __future__ import annotations

from typing import Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.compiler.blocks import ResidualBlock
from specdsl.library.fno import FourierNeuralOperatorConfig
from specdsl.library.fourier.causal import causal_conv
from specdsl.library.fourier.checks import check_choice, check_int
from specdsl.library.fourier.spectral import complex_matmul

ACTIVATIONS = {
    "gelu": F.gelu,
    "relu": F.relu,
    "silu": F.silu,
    "tanh": torch.tanh,
    "identity": lambda t: t,
}


def _spectral_weight(*shape: int) -> nn.Parameter:
    """Real/imaginary pair ``(2, *shape)`` with the usual FNO scale ``1 / (c_in c_out)``."""
    return nn.Parameter(torch.rand(2, *shape) / (shape[-2] * shape[-1]))


class SpectralConv1d(nn.Module):
    """Spectral convolution over the sequence: ``irfft(R_k rfft(x)_k)`` for ``k < modes``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input ``(B, N, in_channels)`` and output ``(B, N, out_channels)``.
    modes : int
        Retained frequencies (at most ``N // 2 + 1`` are used for an input of length ``N``).

    Attributes
    ----------
    weight : Tensor
        ``(2, modes, in_channels, out_channels)``: real and imaginary parts of ``R``.
    """

    def __init__(self, in_channels: int, out_channels: int, modes: int):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels)
        self.out_channels = check_int("out_channels", out_channels)
        self.modes = check_int("modes", modes)
        self.weight = _spectral_weight(modes, in_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, in_channels) -> (B, N, out_channels)``."""
        n = x.shape[1]
        kept = min(self.modes, n // 2 + 1)
        spectrum = torch.fft.rfft(x, dim=1)[:, :kept]
        weight = self.weight[:, :kept]
        product = complex_matmul("bki,kio->bko", spectrum, weight[0], weight[1])
        return torch.fft.irfft(product, n=n, dim=1)

    def impulse_response(self, length: int, dtype: torch.dtype | None = None) -> Tensor:
        """Causal half of the convolution kernel at ``length``: ``(ceil(length/2), in, out)``.

        ``h = irfft(R, length)`` over the modes (lags ``>= length/2`` stand for negative
        lags and are dropped).
        """
        weight = self.weight.to(dtype or self.weight.dtype)
        kernel = torch.fft.irfft(torch.complex(weight[0], weight[1]), n=length, dim=0)
        return kernel[: (length + 1) // 2]

    def causal_forward(self, x: Tensor, length: int | None = None) -> Tensor:
        """Exactly causal version: convolve with :meth:`impulse_response` at ``length``
        (default the input length)."""
        return causal_conv(x, self.impulse_response(length or x.shape[1], x.dtype))


class SpectralConv2d(nn.Module):
    """2-D spectral convolution over an ``H x W`` grid (channels-last).

    Keeps frequencies ``0 .. modes1-1`` and ``-modes1 .. -1`` along ``H`` (weights
    ``weight1`` and ``weight2``) and ``0 .. modes2-1`` along ``W`` (``rfft2``).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input ``(B, H, W, in_channels)`` and output.
    modes1, modes2 : int
        Retained frequencies along ``H`` (each sign) and ``W``.

    Attributes
    ----------
    weight1, weight2 : Tensor
        ``(2, modes1, modes2, in_channels, out_channels)`` real/imaginary pairs.
    """

    def __init__(self, in_channels: int, out_channels: int, modes1: int, modes2: int):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels)
        self.out_channels = check_int("out_channels", out_channels)
        self.modes1 = check_int("modes1", modes1)
        self.modes2 = check_int("modes2", modes2)
        self.weight1 = _spectral_weight(modes1, modes2, in_channels, out_channels)
        self.weight2 = _spectral_weight(modes1, modes2, in_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, H, W, in_channels) -> (B, H, W, out_channels)``."""
        batch, h, w, _ = x.shape
        top, bottom = min(self.modes1, (h + 1) // 2), min(self.modes1, h // 2)
        cols = min(self.modes2, w // 2 + 1)
        spectrum = torch.fft.rfft2(x, dim=(1, 2))
        chosen = torch.cat((spectrum[:, :top, :cols], spectrum[:, h - bottom :, :cols]), dim=1)
        weight = torch.cat(
            (self.weight1[:, :top, :cols], self.weight2[:, self.modes1 - bottom :, :cols]), dim=1
        )
        product = complex_matmul("bxyi,xyio->bxyo", chosen, weight[0], weight[1])
        zeros = product.new_zeros(batch, h - top - bottom, cols, self.out_channels)
        rows = torch.cat((product[:, :top], zeros, product[:, top:]), dim=1)
        rest = product.new_zeros(batch, h, w // 2 + 1 - cols, self.out_channels)
        return torch.fft.irfft2(torch.cat((rows, rest), dim=2), s=(h, w), dim=(1, 2))


class FourierNeuralOperator(nn.Module):
    """FNO token mixer: ``act(K x + W x)`` on ``(B, N, D)``.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    modes : int
        Retained sequence frequencies of the spectral convolution ``K``.
    activation : {"gelu", "relu", "silu", "tanh", "identity"}
        Applied to the sum of both paths.
    use_spectral_conv : bool
        Include ``K`` (:class:`SpectralConv1d`).
    use_linear : bool
        Include the pointwise linear path ``W`` (``nn.Linear(D, D)``).
    causal : bool
        Replace ``K`` by the exactly causal convolution with the causal half of its
        impulse response at ``max_sequence_length``
        (:meth:`SpectralConv1d.causal_forward`).
    use_2d : bool
        Lay the ``N <= spatial_dim**2`` tokens row-major on a ``spatial_dim x spatial_dim``
        grid (zero-padded) and make ``K`` a :class:`SpectralConv2d` with ``modes`` modes
        per axis; the output is read back in the same order. Not causal.
    spatial_dim : int, optional
        Side of the grid; required with ``use_2d``.
    max_sequence_length : int, optional
        Length the causal kernel is defined at (from the model); None uses each input's
        length (then outputs depend on the input length, as in the non-causal FNO).
    """

    def __init__(
        self,
        hidden_dim: int,
        modes: int = 16,
        activation: str = "gelu",
        use_spectral_conv: bool = True,
        use_linear: bool = True,
        causal: bool = False,
        use_2d: bool = False,
        spatial_dim: int | None = None,
        max_sequence_length: int | None = None,
    ):
        super().__init__()
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        self.modes = check_int("modes", modes)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if not (use_spectral_conv or use_linear):
            raise ValueError("use_spectral_conv and use_linear cannot both be false")
        self.use_spectral_conv = bool(use_spectral_conv)
        self.use_linear = bool(use_linear)
        self.causal = bool(causal)
        if max_sequence_length is not None:
            check_int("max_sequence_length", max_sequence_length)
        self.max_sequence_length = max_sequence_length
        self.use_2d = bool(use_2d)
        self.spatial_dim = spatial_dim
        self.spectral_conv: nn.Module | None = None
        if self.use_2d:
            if spatial_dim is None:
                raise ValueError("spatial_dim must be given when use_2d=True")
            check_int("spatial_dim", spatial_dim)
            if self.causal:
                raise ValueError("use_2d=True cannot be causal (the grid convolution is circular)")
            if use_spectral_conv:
                self.spectral_conv = SpectralConv2d(hidden_dim, hidden_dim, modes, modes)
        elif use_spectral_conv:
            self.spectral_conv = SpectralConv1d(hidden_dim, hidden_dim, modes)
        self.linear = nn.Linear(hidden_dim, hidden_dim) if use_linear else None

    @classmethod
    def from_config(cls, config: FourierNeuralOperatorConfig) -> Self:
        """Build the module from its validated config."""
        return cls(**config.model_dump())

    def spectral(self, x: Tensor) -> Tensor:
        """The spectral path ``K x`` (1-D, causal 1-D or on the token grid)."""
        conv = self.spectral_conv
        if self.causal:
            return conv.causal_forward(x, self.max_sequence_length)
        if not self.use_2d:
            return conv(x)
        batch, n, d = x.shape
        side = self.spatial_dim
        if n > side * side:
            raise ValueError(f"use_2d: {n} tokens do not fit a {side} x {side} grid")
        grid = F.pad(x, (0, 0, 0, side * side - n)).view(batch, side, side, d)
        return conv(grid).reshape(batch, side * side, d)[:, :n]

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix ``x`` ``(B, N, D)``; ``mask`` is unused (padded positions arrive zeroed)."""
        out = None
        if self.spectral_conv is not None:
            out = self.spectral(x)
        if self.linear is not None:
            linear = F.linear(x, self.linear.weight.to(x.dtype), self.linear.bias.to(x.dtype))
            out = linear if out is None else out + linear
        return ACTIVATIONS[self.activation](out)


class FNOBlock(ResidualBlock):
    """Pre-norm residual block around an FNO layer: ``x + FNO(LN(x))``, ``x + FFN(LN(x))``.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    modes, activation, causal, use_2d, spatial_dim, max_sequence_length
        As in :class:`FourierNeuralOperator`.
    ffn_hidden_dim : int, optional
        Feed-forward width (default ``4 * hidden_dim``).
    dropout : float
        Dropout on both residual branches.
    norm_eps : float
        LayerNorm epsilon.
    """

    def __init__(
        self,
        hidden_dim: int,
        modes: int = 16,
        activation: str = "gelu",
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        causal: bool = False,
        use_2d: bool = False,
        spatial_dim: int | None = None,
        max_sequence_length: int | None = None,
    ):
        super().__init__(hidden_dim, ffn_hidden_dim or 4 * hidden_dim, dropout, norm_eps)
        self.operator = FourierNeuralOperator(
            hidden_dim,
            modes,
            activation,
            causal=causal,
            use_2d=use_2d,
            spatial_dim=spatial_dim,
            max_sequence_length=max_sequence_length,
        )

    def mix_tokens(self, h: Tensor, mask: Tensor | None) -> Tensor:
        return self.operator(h, mask)


__all__ = ["FNOBlock", "FourierNeuralOperator", "SpectralConv1d", "SpectralConv2d"]
