"""GFNet global filters: torch modules.

The filter is learned at ``sequence_length`` and resampled to the input's number of
frequencies by linear interpolation of its (pre-activation) real and imaginary parts over
normalised frequency (:func:`resample_spectrum`). ``causal=True`` convolves with the causal
half of the filter's impulse response at ``sequence_length``
(:func:`specdsl.library.fourier.causal.causal_conv`), exactly causal and independent of the
input length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import torch
from torch import Tensor, nn

from specdsl.library.fourier.causal import causal_conv
from specdsl.library.fourier.checks import (
    check_choice,
    check_dropout,
    check_float,
    check_int,
    check_positive,
)
from specdsl.library.fourier.lean import rfftn
from specdsl.library.fourier.spectral import cached, channels_first
from specdsl.library.fused import scale_temporary
from specdsl.library.global_filter import FilterConfigBase

FFT_NORMS = ("ortho", "forward", "backward")
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda t: t,
}


@cached
def _lerp_plan(
    source: int, target: int, periodic: bool, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """Neighbour indices and weights (in ``dtype``) for :func:`resample_spectrum`.

    The weights are exact rationals computed in float64; cached per dtype so that the
    ``lerp`` saves a cached constant for backward rather than a fresh cast.
    """
    if periodic:  # all n bins of a full DFT; frequency k/n wraps around
        k = torch.arange(target, dtype=torch.long)
        low = (k * source) // target
        high = (low + 1) % source
        low = low % source
    else:  # the n//2 + 1 bins of an rfft; beyond the last source bin its value is held
        k = torch.arange(target // 2 + 1, dtype=torch.long)
        last = source // 2
        low = ((k * source) // target).clamp(max=last)
        high = (low + 1).clamp(max=last)
    weight = ((k * source) % target).to(torch.float64) / target
    return low.to(device), high.to(device), weight.to(device=device, dtype=dtype)


def resample_spectrum(values: Tensor, source: int, target: int, periodic: bool = False) -> Tensor:
    """Resample filter values along dim 0 from a length-``source`` DFT to a length-``target`` one.

    Bin ``k`` of the target sits at normalised frequency ``k / target``, i.e. at position
    ``p = k * source / target`` on the source bins; its value is
    ``(1 - w) values[floor(p)] + w values[floor(p) + 1]`` with ``w = p - floor(p)``.

    Parameters
    ----------
    values : Tensor
        ``(source // 2 + 1, ...)`` rfft bins (``periodic=False``; past the last source bin
        its value is held) or ``(source, ...)`` bins of a full DFT (``periodic=True``; the
        frequency axis wraps, so negative frequencies interpolate with their neighbours).
    source, target : int
        Signal lengths the bins belong to.

    Returns
    -------
    Tensor
        ``(target // 2 + 1, ...)`` or ``(target, ...)``; ``values`` itself when
        ``source == target`` (resampling is then the identity).
    """
    if source == target:
        return values
    low, high, weight = _lerp_plan(source, target, periodic, values.dtype, values.device)
    weight = weight.view(-1, *([1] * (values.dim() - 1)))
    return torch.lerp(values.index_select(0, low), values.index_select(0, high), weight)


def frequency_scale(length: int) -> Tensor:
    """``1 / (f + 0.1)`` at the rfft bins' normalised frequencies ``f = k / length``,
    divided by its mean (the adaptive initialisation of :class:`AdaptiveGlobalFilter`)."""
    frequency = torch.arange(length // 2 + 1, dtype=torch.float64) / length
    scale = 1.0 / (frequency + 0.1)
    return scale / scale.mean()


class _FilterBase(nn.Module):
    """Filter parameters, activation and arguments shared by the global-filter layers."""

    #: Whether the filter's first axis holds all bins of a full DFT (2-D) or rfft bins.
    periodic = False
    #: The filter's real/imaginary parts: parameters, or buffers when not learnable (set in
    #: ``__init__`` through ``setattr``/``register_buffer``; declared here for type checkers).
    filter_real: Tensor
    filter_imag: Tensor

    def __init__(
        self,
        hidden_dim: int,
        sequence_length: int,
        activation: str,
        dropout: float,
        norm_eps: float,
        learnable_filters: bool,
        fft_norm: str,
        filter_init_std: float,
        shape: tuple[int, int],
    ):
        super().__init__()
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        self.sequence_length = check_int("sequence_length", sequence_length)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.norm_eps = check_positive("norm_eps", norm_eps)
        self.learnable_filters = bool(learnable_filters)
        self.fft_norm = check_choice("fft_norm", fft_norm, FFT_NORMS)
        self.filter_init_std = check_float("filter_init_std", filter_init_std)
        self.dropout = nn.Dropout(check_dropout(dropout))
        values = torch.randn(2, *shape) * self.filter_init_std
        for name, value in zip(("filter_real", "filter_imag"), values, strict=True):
            if self.learnable_filters:
                setattr(self, name, nn.Parameter(value.clone()))
            else:
                self.register_buffer(name, value.clone())

    @classmethod
    def from_config(cls, config: FilterConfigBase) -> Self:
        """Build the module from its validated config."""
        return cls(**config.model_dump())

    def filter_dropout(self, response: Tensor, bins_dim: int = 0) -> Tensor:
        """Hook applied to the activated filter, whose frequency axis is ``bins_dim``
        (spectral dropout in subclasses)."""
        return response

    def get_filter_response(
        self, length: int | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        """The activated complex filter for inputs of ``length`` (default: native).

        ``(length // 2 + 1, D)`` for the 1-D filters, ``(length, D // 2 + 1)`` for the 2-D
        one: the parameters resampled by :func:`resample_spectrum`, then activated.
        """
        return self.filter_values(length, dtype, transposed=False)

    def filter_values(
        self, length: int | None, dtype: torch.dtype | None, transposed: bool
    ) -> Tensor:
        """:meth:`get_filter_response`, or its contiguous transpose when ``transposed``.

        ``act(real) + i act(imag)``, then :meth:`filter_dropout`. The parameters are
        interleaved as one complex tensor first (``torch.complex`` keeps only the
        parameters themselves for backward), resampled as ``(bins, width, 2)`` real pairs,
        transposed (a blocked 2-D copy of the complex values), then activated once and
        viewed as complex: autograd keeps a single copy of the activated filter, the
        activation's result being the very storage the filtering product saves.
        """
        length = self.sequence_length if length is None else length
        real, imag = (p.to(dtype or p.dtype) for p in (self.filter_real, self.filter_imag))
        pairs = torch.view_as_real(torch.complex(real, imag))
        pairs = resample_spectrum(pairs, self.sequence_length, length, self.periodic)
        if transposed:
            pairs = torch.view_as_real(torch.view_as_complex(pairs).t().contiguous())
        response = torch.view_as_complex(ACTIVATIONS[self.activation](pairs))
        return self.filter_dropout(response, int(transposed))


class GlobalFilterMixing(_FilterBase):
    """GFNet global filter over the sequence: ``irfft(rfft(x) * act(W))`` per channel.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    sequence_length : int
        Length the filter is learned at (the model's ``max_sequence_length``). Other input
        lengths use the filter resampled by :func:`resample_spectrum`.
    activation : {"sigmoid", "tanh", "identity"}
        Applied to the real and imaginary filter parameters separately.
    dropout : float
        Dropout on the output.
    norm_eps : float
        Kept as an attribute for API compatibility.
    learnable_filters : bool
        False keeps the (random) filter fixed, as buffers.
    fft_norm : {"ortho", "forward", "backward"}
        Normalisation of the rfft/irfft pair (the filtering itself does not depend on it).
    filter_init_std : float
        Standard deviation of the initial filter parameters.
    causal : bool
        Convolve with the causal half of the filter's impulse response (lags
        ``0 .. ceil(sequence_length / 2) - 1``) instead of filtering circularly.

    Attributes
    ----------
    filter_real, filter_imag : Tensor
        ``(sequence_length // 2 + 1, hidden_dim)`` filter parameters before activation.
    """

    def __init__(
        self,
        hidden_dim: int,
        sequence_length: int,
        activation: str = "sigmoid",
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        learnable_filters: bool = True,
        fft_norm: str = "ortho",
        filter_init_std: float = 0.02,
        causal: bool = False,
    ):
        bins = check_int("sequence_length", sequence_length) // 2 + 1
        super().__init__(
            hidden_dim,
            sequence_length,
            activation,
            dropout,
            norm_eps,
            learnable_filters,
            fft_norm,
            filter_init_std,
            (bins, check_int("hidden_dim", hidden_dim)),
        )
        self.causal = bool(causal)

    def impulse_response(self, dtype: torch.dtype | None = None) -> Tensor:
        """Causal half of the filter's impulse response at ``sequence_length``.

        ``h = irfft(act(W), sequence_length)`` (the kernel of the circular filter, lags
        ``0 .. L-1``, where lags ``>= L/2`` stand for negative ones); returns its first
        ``ceil(L / 2)`` lags, ``(ceil(L / 2), D)``.
        """
        length = self.sequence_length
        kernel = torch.fft.irfft(self.get_filter_response(dtype=dtype), n=length, dim=0)
        return kernel[: (length + 1) // 2]

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Filter ``x`` ``(B, N, D)`` along the sequence; ``mask`` is unused.

        The FFTs and the product run over a contiguous last axis in the channels-first
        layout ``(D, B, N)`` (:func:`channels_first`: one blocked transposition, cheaper than
        torch's own copy for a strided FFT). The output is returned as a ``(B, N, D)`` view
        of that layout (the residual addition reads it; a second transposition would cost
        more). Autograd keeps the spectrum and the activated filter only.
        """
        n = x.shape[1]
        if self.causal:
            return self.dropout(causal_conv(x, self.impulse_response(x.dtype)))
        spectrum = rfftn(channels_first(x), (2,), self.fft_norm)
        response = self.filter_values(n, x.dtype, transposed=True).unsqueeze(1)
        filtered = scale_temporary(spectrum, response)
        out = torch.fft.irfft(filtered, n=n, dim=2, norm=self.fft_norm)
        return self.dropout(out.permute(1, 2, 0))


class AdaptiveGlobalFilter(GlobalFilterMixing):
    """Global filter with frequency-aware initialisation, L2 penalty and spectral dropout.

    Parameters
    ----------
    hidden_dim, sequence_length, activation, dropout, norm_eps, learnable_filters,
    fft_norm, filter_init_std, causal
        As in :class:`GlobalFilterMixing`.
    filter_regularization : float
        Weight of :meth:`get_regularization_loss` (``>= 0``).
    adaptive_initialization : bool
        Scale the initial filter at normalised frequency ``f`` by ``1 / (f + 0.1)``
        (normalised to mean 1): low frequencies start larger.
    spectral_dropout_p : float
        In training, drop whole frequency bins of the filter with this probability (the
        kept ones are scaled by ``1 / (1 - p)``).
    """

    def __init__(
        self,
        hidden_dim: int,
        sequence_length: int,
        activation: str = "sigmoid",
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        learnable_filters: bool = True,
        fft_norm: str = "ortho",
        filter_init_std: float = 0.02,
        causal: bool = False,
        filter_regularization: float = 0.0,
        adaptive_initialization: bool = True,
        spectral_dropout_p: float = 0.0,
    ):
        super().__init__(
            hidden_dim,
            sequence_length,
            activation,
            dropout,
            norm_eps,
            learnable_filters,
            fft_norm,
            filter_init_std,
            causal,
        )
        self.filter_regularization = check_float("filter_regularization", filter_regularization)
        self.spectral_dropout_p = check_float("spectral_dropout_p", spectral_dropout_p, 0.0, 1.0)
        self.adaptive_initialization = bool(adaptive_initialization)
        if self.adaptive_initialization:
            scale = frequency_scale(self.sequence_length).to(self.filter_real.dtype)[:, None]
            with torch.no_grad():
                self.filter_real.mul_(scale)
                self.filter_imag.mul_(scale)

    def filter_dropout(self, response: Tensor, bins_dim: int = 0) -> Tensor:
        p = self.spectral_dropout_p
        if not (self.training and p > 0):
            return response
        bins = response.shape[bins_dim]
        keep = torch.rand(bins, device=response.device) >= p
        scale = keep.to(response.real.dtype) / (1.0 - p)
        return response * scale.view(bins, *([1] * (response.dim() - 1 - bins_dim)))

    def get_regularization_loss(self) -> Tensor:
        """``filter_regularization * (||W_re||^2 + ||W_im||^2)`` (a scalar, 0 when unset)."""
        squares = self.filter_real.square().sum() + self.filter_imag.square().sum()
        return self.filter_regularization * squares


class GlobalFilterMixing2D(_FilterBase):
    """GFNet 2-D: ``irfft2(rfft2(x) * act(W))`` over the (sequence, hidden) plane.

    Input ``(B, N, D)``; ``rfft2`` transforms the hidden axis with a real FFT and the
    sequence axis with a complex one, so ``W`` is ``(sequence_length, D // 2 + 1)``. For
    ``N != sequence_length`` the filter is resampled along the sequence frequencies
    (periodic linear interpolation, :func:`resample_spectrum`). Arguments as in
    :class:`GlobalFilterMixing` (no ``causal``: the filter is circular over the sequence).
    """

    periodic = True

    def __init__(
        self,
        hidden_dim: int,
        sequence_length: int,
        activation: str = "sigmoid",
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        learnable_filters: bool = True,
        fft_norm: str = "ortho",
        filter_init_std: float = 0.02,
    ):
        shape = (
            check_int("sequence_length", sequence_length),
            check_int("hidden_dim", hidden_dim) // 2 + 1,
        )
        super().__init__(
            hidden_dim,
            sequence_length,
            activation,
            dropout,
            norm_eps,
            learnable_filters,
            fft_norm,
            filter_init_std,
            shape,
        )

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Filter ``x`` ``(B, N, D)`` over sequence and hidden; ``mask`` is unused."""
        if x.dim() != 3 or x.shape[-1] != self.hidden_dim:
            raise ValueError(f"expected input (B, N, {self.hidden_dim}), got {tuple(x.shape)}")
        n = x.shape[1]
        spectrum = rfftn(x, (1, 2), self.fft_norm)
        filtered = scale_temporary(spectrum, self.filter_values(n, x.dtype, transposed=False))
        out = torch.fft.irfft2(filtered, s=(n, self.hidden_dim), dim=(1, 2), norm=self.fft_norm)
        return self.dropout(out)


__all__ = ["AdaptiveGlobalFilter", "GlobalFilterMixing", "GlobalFilterMixing2D"]
