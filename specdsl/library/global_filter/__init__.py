"""GFNet global filters: schemas and cost formulas (torch-free).

``sequence_length`` is a context field filled from the model's ``max_sequence_length``:
the filter is learned at that length and resampled to other lengths
(docs/layers/fourier_family.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from specdsl.library.base import Cost, Dims, LayerConfig, fft_flops, register_layer
from specdsl.library.blocks import dropout_cost
from specdsl.library.fourier import FFTNorm
from specdsl.library.fourier.costs import COMPLEX_MUL, causal_conv_cost

FilterActivation = Literal["sigmoid", "tanh", "identity"]
_CONTEXT = {"hidden_dim": "hidden_dim", "sequence_length": "max_sequence_length"}
_REFERENCE = "Rao et al., Global Filter Networks for Image Classification, NeurIPS 2021"
_LERP = 3  # one linear interpolation (a + w (b - a)) per real value


class FilterConfigBase(LayerConfig):
    """Fields shared by the global-filter layers."""

    hidden_dim: int = Field(gt=0)
    sequence_length: int = Field(gt=0)
    activation: FilterActivation = "sigmoid"
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    norm_eps: float = Field(default=1e-5, gt=0.0)
    learnable_filters: bool = True
    fft_norm: FFTNorm = "ortho"
    filter_init_std: float = Field(default=0.02, ge=0.0)

    def cost(self, dims: Dims) -> Cost:
        """The filtering (:meth:`filter_cost`) plus the output dropout's mask."""
        return self.filter_cost(dims) + dropout_cost(dims, self.dropout)

    def filter_cost(self, dims: Dims) -> Cost:
        """Parameters, FLOPs and kept tensors of the filtering itself."""
        raise NotImplementedError

    def filter_params(self, bins: int, width: int) -> int:
        """Real and imaginary filter parameters (none when the filter is fixed)."""
        return 2 * bins * width if self.learnable_filters else 0

    def spectral_dropout(self) -> float:
        """Probability of dropping a filter bin in training (0 unless the layer has one)."""
        return 0.0

    def kept_filter(self, bins: int, width: int, filtered: bool) -> int:
        """Elements autograd keeps of the activated complex filter ``(bins, width)``.

        The real and imaginary parts are activated as one stacked real tensor and viewed as
        complex. With learnable filters the activation keeps its result (``2 bins width``;
        nothing for ``identity``) and spectral dropout its ``bins`` scales. ``filtered``:
        the filter multiplies the input's spectrum directly, and that product keeps the
        filter it is given: the activation's own result, or (identity activation, spectral
        dropout's product, fixed filters) another ``2 bins width``. The causal path turns
        the filter into a kernel by an inverse FFT, which keeps nothing.
        """
        values = 2 * bins * width
        activated = self.learnable_filters and self.activation != "identity"
        dropped = self.spectral_dropout() > 0
        kept = values * activated + bins * (self.learnable_filters and dropped)
        if filtered and (dropped or not activated):
            kept += values
        return kept


def filter_values_flops(bins: int, width: int, resampled: bool) -> int:
    """Activation of the real and imaginary filter values (1 FLOP each) and, when the input
    length differs from ``sequence_length``, their linear interpolation."""
    return 2 * bins * width * (1 + (_LERP if resampled else 0))


@register_layer(
    "global_filter",
    module="specdsl.library.global_filter.modules:GlobalFilterMixing",
    family="global_filter",
    positional=("activation",),
    context=_CONTEXT,
    math="y = irfft(rfft_seq(x) * act(W)), W complex (sequence_length//2+1, D)",
    reference=_REFERENCE,
)
class GlobalFilterMixingConfig(FilterConfigBase):
    """GFNet: a learnable complex filter on the sequence spectrum of every channel."""

    causal: bool = False

    def filter_cost(self, dims: Dims) -> Cost:
        b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
        length = self.sequence_length
        params = Cost(params=self.filter_params(length // 2 + 1, d))
        if self.causal:
            # Impulse response at the native length (irfft per channel), then the exact
            # causal convolution with its causal half.
            native = length // 2 + 1
            kernel = Cost(
                other_flops=filter_values_flops(native, d, False)
                + d * fft_flops(length, real=True),
                activation_bytes=self.kept_filter(native, d, filtered=False) * dims.dtype_bytes,
            )
            conv = causal_conv_cost(
                b, n, d, dtype_bytes=dims.dtype_bytes, kernel_grad=self.learnable_filters
            )
            return params + kernel + conv
        bins = n // 2 + 1
        # Kept for backward: the input's spectrum (for the filter's gradient, so only when
        # it is learnable) and the filter (the rfft keeps nothing, specdsl.library.fourier.lean).
        kept = 2 * b * bins * d * self.learnable_filters + self.kept_filter(bins, d, filtered=True)
        return params + Cost(
            # rfft + irfft per channel (2.5 n log2 n each) and a complex product per bin.
            other_flops=2 * b * d * fft_flops(n, real=True)
            + COMPLEX_MUL * b * bins * d
            + filter_values_flops(bins, d, n != length),
            activation_bytes=kept * dims.dtype_bytes,
            complexity="O(n log n)",
        )


@register_layer(
    "adaptive_global_filter",
    module="specdsl.library.global_filter.modules:AdaptiveGlobalFilter",
    family="global_filter",
    positional=("activation",),
    context=_CONTEXT,
    math="y = irfft(rfft_seq(x) * dropout_f(act(W))), W initialised ~ 1/(f + 0.1)",
    reference=_REFERENCE,
)
class AdaptiveGlobalFilterConfig(GlobalFilterMixingConfig):
    """Global filter with frequency-aware initialisation, L2 penalty and spectral dropout."""

    filter_regularization: float = Field(default=0.0, ge=0.0)
    adaptive_initialization: bool = True
    spectral_dropout_p: float = Field(default=0.0, ge=0.0, lt=1.0)

    def spectral_dropout(self) -> float:
        return self.spectral_dropout_p


@register_layer(
    "global_filter_2d",
    module="specdsl.library.global_filter.modules:GlobalFilterMixing2D",
    family="global_filter",
    positional=("activation",),
    context=_CONTEXT,
    math="y = irfft2(rfft2_(seq,hidden)(x) * act(W)), W complex (sequence_length, D//2+1)",
    reference=_REFERENCE,
    causal="the 2-D filter is circular over the sequence (every position reaches every other)",
)
class GlobalFilterMixing2DConfig(FilterConfigBase):
    """GFNet 2-D: one learnable complex filter on the joint (sequence, hidden) spectrum."""

    def filter_cost(self, dims: Dims) -> Cost:
        b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
        cols = d // 2 + 1
        # rfft2 = real FFTs over hidden (n rows) + complex FFTs over the sequence (d//2+1
        # columns); irfft2 the same backwards; one complex product per bin.
        transforms = 2 * b * (n * fft_flops(d, real=True) + cols * fft_flops(n))
        # Kept: the spectrum (when the filter is learnable) and the filter, as in 1-D.
        kept = 2 * b * n * cols * self.learnable_filters + self.kept_filter(n, cols, filtered=True)
        return Cost(
            params=self.filter_params(self.sequence_length, cols),
            other_flops=transforms
            + COMPLEX_MUL * b * n * cols
            + filter_values_flops(n, cols, n != self.sequence_length),
            activation_bytes=kept * dims.dtype_bytes,
            complexity="O(n log n)",
        )


__all__ = [
    "AdaptiveGlobalFilterConfig",
    "FilterConfigBase",
    "GlobalFilterMixing2DConfig",
    "GlobalFilterMixingConfig",
]
