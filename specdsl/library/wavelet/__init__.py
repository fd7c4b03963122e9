"""Wavelet token mixers: schemas and cost formulas (torch-free).

The DWT is the pywt-compatible one of :mod:`specdsl.transforms` (strided convolutions,
which ``FlopCounterMode`` counts: ``4 * rows * m * F`` FLOPs per single-level analysis or
synthesis with ``m`` coefficients per band and filter length ``F``).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Literal

from pydantic import Field

from specdsl.library.base import Cost, Dims, LayerConfig, register_layer

#: Wavelets of ``specdsl.transforms.SUPPORTED_WAVELETS`` (kept torch-free here).
WAVELETS: tuple[str, ...] = (
    "haar",
    *(f"db{i}" for i in range(1, 9)),
    *(f"sym{i}" for i in range(2, 9)),
    *(f"coif{i}" for i in range(1, 6)),
    *(f"bior{v}" for v in ("1.1", "1.3", "1.5", "2.2", "2.4", "2.6", "2.8")),
)
WaveletName = Literal[WAVELETS]  # type: ignore[valid-type]
_REFERENCE = "Mallat, A Wavelet Tour of Signal Processing (3rd ed.), 2009"


@cache
def filter_length(wavelet: str) -> int:
    """Filter length ``F`` of ``pywt.Wavelet(wavelet)`` (even for every supported name)."""
    import pywt

    return len(pywt.Wavelet(wavelet).dec_lo)


def band_lengths(n: int, taps: int, levels: int) -> list[int]:
    """Coefficients per level of a symmetric/zero-mode DWT: ``m_j = (m_{j-1} + F - 1) // 2``.

    Returns ``[m_1, ..., m_levels]`` (finest first) for an input of length ``n``.
    """
    out = []
    for _ in range(levels):
        n = (n + taps - 1) // 2
        out.append(n)
    return out


def causal_delay(wavelet: str, levels: int) -> int:
    """Latency ``(2^levels - 1)(F - 1)`` of the causal filter bank (its zero left padding)."""
    return ((1 << levels) - 1) * (filter_length(wavelet) - 1)


class WaveletConfigBase(LayerConfig):
    """Fields shared by the wavelet mixers."""

    wavelet: WaveletName = "db4"  # type: ignore[valid-type]


@register_layer(
    "wavelet",
    module="specdsl.library.wavelet.modules:WaveletMixing",
    family="wavelet",
    positional=("wavelet",),
    math="y = IDWT(mix(DWT_seq(x)))[:n]",
    reference=_REFERENCE,
)
class WaveletMixingConfig(WaveletConfigBase):
    """Multi-level DWT over the sequence, learnable mixing of the bands, inverse DWT."""

    hidden_dim: int = Field(gt=0)
    levels: int = Field(default=3, ge=1, le=10)
    mixing_mode: Literal["pointwise", "channel", "level"] = "pointwise"
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    causal: bool = False

    def cost(self, dims: Dims) -> Cost:
        b, d = dims.batch, dims.hidden_dim
        taps = filter_length(self.wavelet)
        n = dims.seq_len + (causal_delay(self.wavelet, self.levels) if self.causal else 0)
        lengths = band_lengths(n, taps, self.levels)
        coefficients = sum(lengths) + lengths[-1]  # every detail band and the approximation
        rows = b * d
        # analysis + synthesis: two strided convolutions per level (4 rows m F FLOPs each)
        matmul = 8 * rows * taps * sum(lengths)
        other = 0
        if self.mixing_mode == "channel":  # one D x D product per band
            matmul += 2 * b * coefficients * d * d
            params = (self.levels + 1) * d * d
        elif self.mixing_mode == "level":  # gather + weighted sum over the levels + 1 bands
            other = 2 * rows * coefficients * (self.levels + 1)
            params = (self.levels + 1) ** 2 * d
        else:  # one scale per band and channel
            other = rows * coefficients
            params = (self.levels + 1) * d
        return Cost(
            params=params,
            matmul_flops=matmul,
            other_flops=other,
            activation_bytes=2 * rows * coefficients * dims.dtype_bytes,
            complexity="O(n)",
        )


def grid_shape(n: int) -> tuple[int, int]:
    """The ``H x W`` grid ``n`` tokens are laid on, row-major: ``W = ceil(sqrt(n))``,
    ``H = ceil(n / W)`` (the last row zero-padded)."""
    width = math.isqrt(n - 1) + 1 if n > 1 else 1
    return -(-n // width), width


def dwt2_conv_flops(rows: int, h: int, w: int, taps: int) -> tuple[int, int, int]:
    """FLOPs of one 2-D analysis + synthesis level of ``rows`` ``h x w`` images.

    Analysis: along ``W`` on ``rows h`` lines, then along ``H`` on ``2 rows m_w`` lines;
    synthesis: along ``H`` on ``2 rows m_w`` lines, then along ``W`` on ``rows h'`` lines
    with ``h' = 2 m_h - F + 2``. Returns ``(flops, m_h, m_w)``.
    """
    m_h, m_w = (h + taps - 1) // 2, (w + taps - 1) // 2
    h_rec = 2 * m_h - taps + 2
    lines = rows * h * m_w + 2 * rows * m_w * m_h + 2 * rows * m_w * m_h + rows * h_rec * m_w
    return 4 * lines * taps, m_h, m_w


@register_layer(
    "wavelet_2d",
    module="specdsl.library.wavelet.modules:WaveletMixing2D",
    family="wavelet",
    positional=("wavelet",),
    context={"channels": "hidden_dim"},
    math="y = IDWT2(mix(DWT2_grid(x))): tokens on a ceil(sqrt(n))-wide grid",
    reference=_REFERENCE,
    causal="the 2-D transform on a token grid mixes rows below and after every token",
)
class WaveletMixing2DConfig(WaveletConfigBase):
    """2-D DWT over a token grid (or an image), learnable subband mixing, inverse DWT."""

    channels: int = Field(gt=0)
    levels: int = Field(default=2, ge=1, le=10)
    mixing_mode: Literal["subband", "channel"] = "subband"

    @property
    def hidden_dim(self) -> int:
        """The model width (``channels``)."""
        return self.channels

    def cost(self, dims: Dims) -> Cost:
        b, c = dims.batch, self.channels
        taps = filter_length(self.wavelet)
        h, w = grid_shape(dims.seq_len)
        rows = b * c
        matmul = coefficients = 0
        for _ in range(self.levels):
            flops, h, w = dwt2_conv_flops(rows, h, w, taps)
            matmul += flops
            coefficients += 3 * h * w
        coefficients += h * w  # the approximation
        bands = 3 * self.levels + 1
        if self.mixing_mode == "channel":
            matmul += 2 * b * coefficients * c * c
            params, other = bands * c * c, 0
        else:
            params, other = bands * c, rows * coefficients
        return Cost(
            params=params,
            matmul_flops=matmul,
            other_flops=other,
            activation_bytes=2 * rows * coefficients * dims.dtype_bytes,
            complexity="O(n)",
        )


__all__ = ["WaveletConfigBase", "WaveletMixing2DConfig", "WaveletMixingConfig"]
