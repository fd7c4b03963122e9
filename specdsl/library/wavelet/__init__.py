"""Wavelet token mixers: schemas and cost formulas (torch-free).

The DWT runs as the block products of :mod:`specdsl.library.wavelet.plan` (all levels in
one batched matrix product, see there), which ``FlopCounterMode`` counts: the cost
formulas read the same plan the modules use.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Literal

from pydantic import Field

from specdsl.library.base import Cost, Dims, LayerConfig, register_layer
from specdsl.library.blocks import dropout_cost
from specdsl.library.wavelet.plan import (
    AxisPlan,
    band_lengths,
    compact_grid,
    filled_count,
    stages,
)

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
        """Block-product DWT and inverse, the band mixing, and what backward keeps.

        Summed over the stages of ``plan.stages`` (one unless ``levels`` exceeds
        ``plan.stage_levels(F)``). Kept for backward (the transforms are constant linear
        maps and keep nothing): each stage's coefficient buffer ``rows x P x D`` (``rows =
        B blocks + window - 1``, see ``plan.AxisPlan``) with its per-slot weights (pointwise
        ``P D``, channel ``P D D``); ``level`` mode keeps the gathered reads
        ``B blocks P (L+1) D`` and ``P (L+1) D`` weights instead. Output dropout keeps its
        scaled mask (``B N D``).
        """
        b, d, levels, n = dims.batch, dims.hidden_dim, self.levels, dims.seq_len
        mode = "zero" if self.causal else "symmetric"
        delay = causal_delay(self.wavelet, levels) if self.causal else 0
        matmul = other = kept = 0
        for i, plan in enumerate(stages(self.wavelet, levels, n + delay, mode, False)):
            size = n if i == 0 else plan.length  # stage 0 reads x and returns n samples
            matmul += plan.analysis_flops(b, d, size) + plan.synthesis_flops(b, d, size)
            slots = plan.slots
            coefficients = plan.rows(b) * slots * d
            if self.mixing_mode == "channel":  # one D x D product per slot
                matmul += 2 * coefficients * d
                kept += coefficients + slots * d * d
            elif self.mixing_mode == "level":  # gather, weight, sum over the levels + 1 bands
                reads = b * plan.blocks * slots * (levels + 1) * d
                other += 2 * reads
                kept += reads + slots * (levels + 1) * d
            else:  # one scale per band and channel
                other += coefficients
                kept += coefficients + slots * d
        params = {"channel": (levels + 1) * d * d, "level": (levels + 1) ** 2 * d}.get(
            self.mixing_mode, (levels + 1) * d
        )
        return Cost(
            params=params,
            matmul_flops=matmul,
            other_flops=other,
            activation_bytes=kept * dims.dtype_bytes,
            complexity="O(n)",
        ) + dropout_cost(dims, self.dropout)


def grid_shape(n: int) -> tuple[int, int]:
    """The ``H x W`` grid ``n`` tokens are laid on, row-major: ``W = ceil(sqrt(n))``,
    ``H = ceil(n / W)`` (the last row zero-padded)."""
    width = math.isqrt(n - 1) + 1 if n > 1 else 1
    return -(-n // width), width


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

    def _stage_cost(
        self, b: int, c: int, plan_h: AxisPlan, plan_w: AxisPlan
    ) -> tuple[int, int, int]:
        """``(matmul, other, kept elements)`` of one stage."""
        height, width = plan_h.length, plan_w.length
        if self.mixing_mode == "subband" and compact_grid(plan_h, plan_w):
            rows_h, rows_w = filled_count(plan_h), filled_count(plan_w)
            # analysis along W then H; synthesis along W (on filled_H rows) then H
            matmul = 2 * b * c * height * rows_w * (width + rows_h)
            matmul += 2 * b * c * rows_h * width * (rows_w + height)
            coefficients = b * rows_h * rows_w * c
            return matmul, coefficients, coefficients + rows_h * rows_w * c
        row = plan_w.blocks * plan_w.slots * c  # one row of the W-transformed grid
        matmul = plan_w.analysis_flops(b * height, c, width) + plan_h.analysis_flops(b, row, height)
        matmul += plan_h.synthesis_flops(b, row, height)
        matmul += plan_w.synthesis_flops(b * height, c, width)
        coefficients = plan_h.rows(b) * plan_h.slots * row
        pairs = plan_h.slots * plan_w.slots
        if self.mixing_mode == "channel":
            return matmul + 2 * coefficients * c, 0, coefficients + pairs * c * c
        return matmul, coefficients, coefficients + pairs * c

    def cost(self, dims: Dims) -> Cost:
        """Separable block-product DWT along W then H, the subband mixing, the inverse.

        Summed over the stages of ``plan.stages`` (one unless ``levels`` exceeds
        ``plan.stage_levels(F)``). Every pair of 1-D pyramid outputs (``S = 2 P - 2`` per
        axis) is computed and weighted (pairs that are no subband by zero). Kept for
        backward: the coefficient buffer ``rows_H x S x blocks_W x S x C`` and the pair
        weights (``S S C``, or ``S S`` ``C x C`` matrices and the buffer regrouped by pair
        for ``channel`` mixing). Stages that run compact in ``subband`` mode
        (``plan.compact_grid``: small and moderate grids) keep only the filled
        coefficients, ``B x filled_H x filled_W x C``, and their weights, from four dense
        products.
        """
        b, c = dims.batch, self.channels
        height, width = grid_shape(dims.seq_len)
        along = [
            stages(self.wavelet, self.levels, size, "symmetric", True) for size in (height, width)
        ]
        matmul = other = kept = 0
        for plan_h, plan_w in zip(*along, strict=True):
            stage = self._stage_cost(b, c, plan_h, plan_w)
            matmul, other, kept = matmul + stage[0], other + stage[1], kept + stage[2]
        bands = 3 * self.levels + 1
        return Cost(
            params=bands * c * c if self.mixing_mode == "channel" else bands * c,
            matmul_flops=matmul,
            other_flops=other,
            activation_bytes=kept * dims.dtype_bytes,
            complexity="O(n)",
        )


__all__ = ["WaveletConfigBase", "WaveletMixing2DConfig", "WaveletMixingConfig", "band_lengths"]
