"""Fourier neural operator layers: spectral convolutions, the FNO token mixer and block.

Complex weights are stored as real pairs (index 0 real part, 1 imaginary part); the
per-mode complex products are two real batched matrix products on views of them
(:func:`specdsl.library.fno._spectral.mode_product`), so ``FlopCounterMode`` measures the
full real work and no weight-sized tensor is built per forward. Inputs are channels-last:
``(B, N, C)`` and ``(B, H, W, C)``.

The 1-D convolution keeps few modes of long sequences: there the truncated DFT and its
inverse are two matrix products with cached ``(2 kept, N)`` matrices
(:func:`specdsl.library.fno.uses_truncated_dft` decides, from ``N`` and the kept modes
alone, so the cost formula follows the same path), otherwise ``rfft``/``irfft``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from specdsl.compiler.blocks import ResidualBlock
from specdsl.library.fno import FourierNeuralOperatorConfig, uses_truncated_dft
from specdsl.library.fno._spectral import mode_product, truncated_dft
from specdsl.library.fourier.causal import causal_conv
from specdsl.library.fourier.checks import check_choice, check_int
from specdsl.library.fused import needs_grad

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "gelu": F.gelu,
    "relu": F.relu,
    "silu": F.silu,
    "tanh": torch.tanh,
    "identity": lambda t: t,
}


def _spectral_weight(*shape: int) -> nn.Parameter:
    """Real/imaginary pair ``(2, *shape)`` with the usual FNO scale ``1 / (c_in c_out)``."""
    return nn.Parameter(torch.rand(2, *shape) / (shape[-2] * shape[-1]))


def _as_pairs(spectrum: Tensor) -> Tensor:
    """``(B, *modes, C)`` complex -> ``(*modes, 2, B, C)`` real view (no copy)."""
    pairs = torch.view_as_real(spectrum)  # (B, *modes, C, 2)
    last = pairs.dim() - 1
    return pairs.permute(*range(1, last - 1), last, 0, last - 1)


def _as_complex(real: Tensor, imag: Tensor) -> Tensor:
    """``real + i imag`` without saving either for backward (``torch.complex`` keeps both)."""
    return torch.view_as_complex(torch.stack((real, imag), dim=-1))


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
        """``(B, N, in_channels) -> (B, N, out_channels)``.

        Few kept modes (:func:`~specdsl.library.fno.uses_truncated_dft`): the kept bins
        are ``analysis @ x`` and the output ``synthesis @ products`` (matrix products with
        cached constants); otherwise ``rfft``, the products, ``irfft(n=N)`` (which fills
        the dropped bins with zeros).
        """
        batch, n, _ = x.shape
        kept = min(self.modes, n // 2 + 1)
        weight = self.weight.to(x.dtype)
        if uses_truncated_dft(n, kept):
            analysis, synthesis = truncated_dft(n, kept, x.dtype, x.device)
            spectrum = torch.bmm(analysis.expand(batch, -1, -1), x)  # (B, 2K, C): Re; Im
            pairs = spectrum.unflatten(1, (2, kept)).permute(2, 1, 0, 3)
            real, imag = mode_product(pairs, weight[0, :kept], weight[1, :kept])
            product = torch.stack((real, imag), dim=1).permute(2, 1, 0, 3)  # (B, 2, K, O)
            return torch.bmm(synthesis.expand(batch, -1, -1), product.flatten(1, 2))
        pairs = _as_pairs(torch.fft.rfft(x, dim=1)[:, :kept])
        real, imag = mode_product(pairs, weight[0, :kept], weight[1, :kept])
        return torch.fft.irfft(_as_complex(real, imag).transpose(0, 1), n=n, dim=1)

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
        (default the input length).

        The kernel and everything derived from it (``O(length C_in C_out)`` values) are
        recomputed in the backward pass instead of being kept: when autograd records,
        the convolution runs under :func:`torch.utils.checkpoint.checkpoint`, which keeps
        only ``x`` (and the weight).
        """
        length = length or x.shape[1]
        if needs_grad(x, self.weight):
            return checkpoint(
                self._causal, x, length, use_reentrant=False, preserve_rng_state=False
            )
        return self._causal(x, length)

    def _causal(self, x: Tensor, length: int) -> Tensor:
        return causal_conv(x, self.impulse_response(length, x.dtype))


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
        weight1 = self.weight1.to(x.dtype)[:, :top, :cols]
        weight2 = self.weight2.to(x.dtype)[:, self.modes1 - bottom :, :cols]
        parts = [self._rows(spectrum[:, :top, :cols], weight1)]
        if bottom:
            zeros = parts[0].new_zeros(batch, h - top - bottom, cols, self.out_channels)
            parts += [zeros, self._rows(spectrum[:, h - bottom :, :cols], weight2)]
        # irfft2 zero-fills the columns from ``cols`` to ``w // 2 + 1``
        return torch.fft.irfft2(torch.cat(parts, dim=1), s=(h, w), dim=(1, 2))

    @staticmethod
    def _rows(spectrum: Tensor, weight: Tensor) -> Tensor:
        """Per-mode products of ``(B, rows, cols, C_in)`` complex bins with ``weight``
        ``(2, rows, cols, C_in, C_out)``: ``(B, rows, cols, C_out)`` complex."""
        rows, cols = spectrum.shape[1:3]
        pairs = _as_pairs(spectrum).flatten(0, 1)  # (rows * cols, 2, B, C_in)
        real, imag = mode_product(pairs, weight[0].flatten(0, 1), weight[1].flatten(0, 1))
        return _as_complex(real, imag).unflatten(0, (rows, cols)).permute(2, 0, 1, 3)


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
        self.spectral_conv: SpectralConv1d | SpectralConv2d | None = None
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
        assert conv is not None, "spectral() is only called when use_spectral_conv=True"
        if self.causal:
            assert isinstance(conv, SpectralConv1d), "causal excludes use_2d: K is 1-D"
            return conv.causal_forward(x, self.max_sequence_length)
        if not self.use_2d:
            return conv(x)
        batch, n, d = x.shape
        side = self.spatial_dim
        assert side is not None, "use_2d requires spatial_dim (checked in __init__)"
        if n > side * side:
            raise ValueError(f"use_2d: {n} tokens do not fit a {side} x {side} grid")
        grid = F.pad(x, (0, 0, 0, side * side - n)).view(batch, side, side, d)
        # a tensor of its own: a slice would keep the whole grid alive for the activation
        return conv(grid).reshape(batch, side * side, d)[:, :n].contiguous()

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix ``x`` ``(B, N, D)``; ``mask`` is unused (padded positions arrive zeroed)."""
        weight = bias = None
        if self.linear is not None:
            weight, bias = self.linear.weight.to(x.dtype), self.linear.bias.to(x.dtype)
        if self.spectral_conv is None:
            assert weight is not None, "__init__ requires use_linear without a spectral conv"
            out = F.linear(x, weight, bias)
        else:
            out = self.spectral(x)
            if weight is not None:  # K x + W x in one product (addmm), then the bias
                d = self.hidden_dim
                assert bias is not None, "nn.Linear(D, D) has a bias, set with weight"
                summed = torch.addmm(out.reshape(-1, d), x.reshape(-1, d), weight.T)
                out = summed.view(out.shape).add_(bias)
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
