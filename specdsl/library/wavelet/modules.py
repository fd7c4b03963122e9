"""Wavelet token mixers: every decomposition level in one matrix product, no level loop.

The multi-level DWT (pywt's, ``"symmetric"`` extension, or ``"zero"`` when causal) runs as
the block product of :mod:`.plan` / :mod:`.ops`: blocks of ``P = 2**levels`` positions,
each coefficient block one ``(slots x window P)`` matrix times a sliding window of input
blocks (plus a small correction at both ends for the symmetric extension), and the inverse
likewise. Coefficient block ``k`` holds ``cA_L[k]``, ``cD_L[k]``, ``cD_{L-1}[2k..2k+1]``,
..., ``cD_1[2^(L-1) k ..]`` (slot ``s`` belongs to pywt band ``s.bit_length()``), so the
per-band mixing is a per-slot operation and nothing in a forward loops over levels,
positions or channels. Both transforms are constant linear maps run through
:class:`.ops.ConstantLinear`: only what the mixing itself needs is kept for backward.

One block product's work per sample grows as ``(F - 1) 2^levels``, so decompositions
deeper than :func:`.plan.stage_levels` (4 levels for db4, 7 for haar) are chained in
stages: the next stage transforms the previous one's approximation (pywt's own recursion)
and hands its reconstruction back. The only Python loop of a forward runs over these
stages (2 for db4 with 5 to 8 levels, at most 5 for coif5 at 10 levels); the defaults
(``wavelet``: db4, 3 levels; ``wavelet_2d``: 2; the decoders' 2) are a single stage.
"""

from __future__ import annotations

from typing import Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.library.fourier.checks import check_choice, check_dropout, check_int
from specdsl.library.fused import scale_temporary
from specdsl.library.wavelet import WAVELETS, WaveletConfigBase, causal_delay, grid_shape
from specdsl.library.wavelet.chain import (
    approximation,
    first_levels,
    level_reads,
    stage_bands,
)
from specdsl.library.wavelet.grid import GridStage, grid_stage, stage_table
from specdsl.library.wavelet.ops import analysis, linear, synthesis
from specdsl.library.wavelet.plan import AxisPlan, compact_grid, stages


def _padded(weight: Tensor, dtype: torch.dtype) -> Tensor:
    """``weight`` with one zero entry appended along dim 0 (the handed-on approximation)."""
    weight = weight.to(dtype)
    return torch.cat((weight, weight.new_zeros(1, *weight.shape[1:])))


def _band_parameter(mode: str, bands: int, channels: int) -> nn.Parameter:
    """Identity-initialised mixing weights: a scale ``(bands, C)`` or matrices ``(bands, C, C)``."""
    if mode == "channel":
        return nn.Parameter(torch.eye(channels).repeat(bands, 1, 1))
    return nn.Parameter(torch.ones(bands, channels))


def _channel_map(coefficients: Tensor, weight: Tensor) -> Tensor:
    """Slot ``s`` of ``coefficients (rows, S, C)`` times ``weight[s] (C, C)``."""
    mixed = torch.bmm(coefficients.transpose(0, 1), weight)
    return mixed.transpose(0, 1)


def _check_levels(levels: int) -> int:
    check_int("levels", levels)
    if levels > 10:
        raise ValueError(f"levels must be an integer in [1, 10], got {levels}")
    return levels


class WaveletMixing(nn.Module):
    """DWT over the sequence, learnable mixing of the bands, inverse DWT, crop to ``N``.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D`` (every channel is transformed separately).
    wavelet : str
        A name of ``specdsl.transforms.SUPPORTED_WAVELETS`` (pywt filters).
    levels : int
        Decomposition levels ``L`` (1 to 10; short inputs are decomposed that deep too).
    mixing_mode : {"pointwise", "channel", "level"}
        ``pointwise``: a scale per band and channel (``band_weight (L+1, D)``);
        ``channel``: a ``D x D`` map per band (``band_weight (L+1, D, D)``);
        ``level``: every band becomes a per-channel combination of all bands brought to its
        rate (``level_weight (L+1, L+1, D)``, see :func:`level_plan`).
        All start as the identity.
    dropout : float
        Dropout on the output.
    causal : bool
        Zero-mode DWT of the input left-padded with ``delay = (2^L - 1)(F - 1)`` zeros,
        output the first ``N`` samples: an exactly causal filter bank with latency ``delay``
        (identity weights return ``x`` shifted right by ``delay``). Non-causal uses pywt's
        ``symmetric`` mode and returns ``x`` for identity weights.
    """

    def __init__(
        self,
        hidden_dim: int,
        wavelet: str = "db4",
        levels: int = 3,
        mixing_mode: str = "pointwise",
        dropout: float = 0.0,
        causal: bool = False,
    ):
        super().__init__()
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        self.wavelet = check_choice("wavelet", wavelet, WAVELETS)
        self.levels = _check_levels(levels)
        self.mixing_mode = check_choice(
            "mixing_mode", mixing_mode, ("pointwise", "channel", "level")
        )
        self.dropout = nn.Dropout(check_dropout(dropout))
        self.causal = bool(causal)
        self.delay = causal_delay(wavelet, levels) if self.causal else 0
        self.extension = "zero" if self.causal else "symmetric"
        bands = levels + 1
        if mixing_mode == "level":
            self.level_weight = nn.Parameter(torch.eye(bands)[:, :, None].repeat(1, 1, hidden_dim))
        else:
            self.band_weight = _band_parameter(mixing_mode, bands, hidden_dim)

    @classmethod
    def from_config(cls, config: WaveletConfigBase) -> Self:
        """Build the module from its validated config."""
        return cls(**config.model_dump())

    def plans(self, n: int) -> tuple[AxisPlan, ...]:
        """The block plans (stages, finest first) of an input of ``n`` positions (plus the
        causal delay); one unless ``levels > plan.stage_levels(F)``."""
        return stages(self.wavelet, self.levels, n + self.delay, self.extension, False)

    def analyse(self, x: Tensor, plans: tuple[AxisPlan, ...]) -> list[Tensor]:
        """The coefficient buffers of every stage; each next stage transforms the previous
        one's approximation (slot 0)."""
        buffers, signal, offset = [], x, self.delay
        for i, plan in enumerate(plans):  # stages of up to plan.stage_levels(F) levels
            buffers.append(linear(signal, analysis(plan, offset, signal)))
            if i + 1 < len(plans):
                signal, offset = approximation(buffers[-1], plan, x.shape[0]), 0
        return buffers

    def synthesise(self, buffers: list[Tensor], plans: tuple[AxisPlan, ...], n: int) -> Tensor:
        """Invert the stages, last first, each reconstructed approximation added into the
        previous stage's slot 0; the first ``n`` samples."""
        out = None
        for i in range(len(plans) - 1, -1, -1):  # stages, see analyse
            coefficients = buffers[i]
            if out is not None:
                approximation(coefficients, plans[i], out.shape[0]).add_(out)
            length = n if i == 0 else plans[i].length
            out = linear(coefficients, synthesis(plans[i], length, coefficients))
        assert out is not None, "a plan has at least one stage"
        return out

    def mix_levels(
        self, buffers: list[Tensor], plans: tuple[AxisPlan, ...], batch: int
    ) -> list[Tensor]:
        """``level`` mode: every coefficient from all bands (:func:`.chain.level_reads`)."""
        device, width = buffers[0].device, buffers[0].shape[-1]
        reads = level_reads(plans, plans[0].length, int(self.causal), device)
        bands = stage_bands(plans, self.levels, device)
        parts = [
            c[: batch * p.blocks].view(batch, -1, width)
            for c, p in zip(buffers, plans, strict=True)
        ]
        flat = torch.cat((parts[0].new_zeros(batch, 1, width), *parts), dim=1)
        weight = _padded(self.level_weight, flat.dtype)
        out = []
        for plan, index, band in zip(plans, reads, bands, strict=True):  # stages
            read = flat.index_select(1, index).view(batch, plan.blocks, plan.slots, -1, width)
            mixed = (read * weight[band]).sum(3).view(-1, plan.slots, width)
            out.append(F.pad(mixed, (0, 0, 0, 0, 0, plan.window - 1)))
        return out

    def mix(self, buffers: list[Tensor], plans: tuple[AxisPlan, ...], batch: int) -> list[Tensor]:
        """Apply the band weights to every stage's coefficient buffer ``(rows, P, D)``."""
        if self.mixing_mode == "level":
            return self.mix_levels(buffers, plans, batch)
        weight = _padded(self.band_weight, buffers[0].dtype)
        bands = stage_bands(plans, self.levels, buffers[0].device)
        if self.mixing_mode == "channel":
            return [_channel_map(c, weight[b]) for c, b in zip(buffers, bands, strict=True)]
        return [scale_temporary(c, weight[b]) for c, b in zip(buffers, bands, strict=True)]

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix ``x`` ``(B, N, D)``; ``mask`` is unused (padded positions arrive zeroed)."""
        batch, n, _ = x.shape
        plans = self.plans(n)
        mixed = self.mix(self.analyse(x, plans), plans, batch)
        return self.dropout(self.synthesise(mixed, plans, n))


class WaveletMixing2D(nn.Module):
    """2-D DWT, learnable mixing of the subbands, inverse DWT.

    Inputs: images ``(B, C, H, W)`` (returned in that layout), or tokens ``(B, N, C)``
    laid row-major on a grid of width ``ceil(sqrt(N))`` and height ``ceil(N / width)``
    (the last row zero-padded; the output is read back in the same order). The transform
    is pywt's ``wavedec2`` / ``waverec2`` with symmetric extension, run separably as the
    block products of :mod:`.ops2d` (no loop over levels); in ``subband`` mode small and
    moderate grids run as four dense products on the filled coefficients only
    (:func:`.ops2d.compact`, chosen by :func:`.plan.compact_grid`).

    Parameters
    ----------
    channels : int
        Channels ``C`` (the model's ``hidden_dim``).
    wavelet : str
        A name of ``specdsl.transforms.SUPPORTED_WAVELETS``.
    levels : int
        Decomposition levels ``L`` (1 to 10).
    mixing_mode : {"subband", "channel"}
        ``subband``: a scale per subband and channel (``band_weight (3L+1, C)``);
        ``channel``: a ``C x C`` map per subband (``band_weight (3L+1, C, C)``). Subband
        ``0`` is ``cA_L``, then ``(cH, cV, cD)`` from the coarsest level to the finest.
    """

    def __init__(
        self,
        channels: int,
        wavelet: str = "db4",
        levels: int = 2,
        mixing_mode: str = "subband",
    ):
        super().__init__()
        self.channels = check_int("channels", channels)
        self.wavelet = check_choice("wavelet", wavelet, WAVELETS)
        self.levels = _check_levels(levels)
        self.mixing_mode = check_choice("mixing_mode", mixing_mode, ("subband", "channel"))
        self.band_weight = _band_parameter(mixing_mode, 3 * levels + 1, channels)

    @classmethod
    def from_config(cls, config: WaveletConfigBase) -> Self:
        """Build the module from its validated config."""
        return cls(**config.model_dump())

    def plans(self, height: int, width: int) -> tuple[tuple[AxisPlan, AxisPlan], ...]:
        """The block plans ``(along H, along W)`` of every stage, finest first (one stage
        unless ``levels > plan.stage_levels(F)``)."""
        along = [
            stages(self.wavelet, self.levels, size, "symmetric", True) for size in (height, width)
        ]
        return tuple(zip(*along, strict=True))

    def stages(self, height: int, width: int, like: Tensor) -> list[GridStage]:
        """The stages of an ``H x W`` grid; ``subband`` mixing of a grid where
        ``plan.compact_grid`` holds runs packed (filled slots only)."""
        subband = self.mixing_mode == "subband"
        return [
            grid_stage(h, w, subband and compact_grid(h, w), like.dtype, like.device)
            for h, w in self.plans(height, width)
        ]

    def mix(self, coefficients: Tensor, stage: GridStage, first: int, last: bool) -> Tensor:
        """Apply the subband weights to one stage's coefficients."""
        table = stage_table(stage, first, self.levels, last, coefficients.device)
        weight = _padded(self.band_weight, coefficients.dtype)[table]
        if stage.packed:  # (B, filled_H, filled_W, C) by (filled_H, filled_W, C)
            return scale_temporary(coefficients, weight)
        rows, slots = coefficients.shape[:2]
        grid = coefficients.view(rows, slots, stage.plan_w.blocks, slots, self.channels)
        if self.mixing_mode == "subband":
            return scale_temporary(grid, weight[:, None]).view(coefficients.shape)
        pairs = grid.permute(1, 3, 0, 2, 4).reshape(slots * slots, -1, self.channels)
        mixed = torch.bmm(pairs, weight.view(slots * slots, self.channels, self.channels))
        mixed = mixed.view(slots, slots, rows, stage.plan_w.blocks, self.channels)
        return mixed.permute(2, 0, 3, 1, 4).reshape(coefficients.shape)

    def mix_image(self, image: Tensor) -> Tensor:
        """Transform, mix and invert ``image`` ``(B, H, W, C)`` (channels last)."""
        grid = self.stages(image.shape[1], image.shape[2], image)
        buffers, signal = [], image
        for i, stage in enumerate(grid):  # stages of up to plan.stage_levels(F) levels
            buffers.append(stage.analyse(signal))
            if i + 1 < len(grid):
                signal = stage.take(buffers[-1], image.shape[0])
        firsts = first_levels(tuple(stage.plan_h for stage in grid))
        last = len(grid) - 1
        mixed = [
            self.mix(c, stage, first, i == last)
            for i, (c, stage, first) in enumerate(zip(buffers, grid, firsts, strict=True))
        ]
        out = None
        for i in range(last, -1, -1):  # stages, last first
            if out is not None:
                grid[i].give(mixed[i], out)
            out = grid[i].synthesise(mixed[i])
        assert out is not None, "a grid has at least one stage"
        return out

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix tokens ``(B, N, C)`` or an image ``(B, C, H, W)``; ``mask`` is unused."""
        if x.dim() == 4 and x.shape[1] == self.channels:
            return self.mix_image(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        if x.dim() != 3 or x.shape[-1] != self.channels:
            raise ValueError(
                f"expected tokens (B, N, {self.channels}) or an image (B, {self.channels}, H, W),"
                f" got {tuple(x.shape)}"
            )
        batch, n, _ = x.shape
        height, width = grid_shape(n)
        if height * width > n:
            x = F.pad(x, (0, 0, 0, height * width - n))
        out = self.mix_image(x.view(batch, height, width, self.channels))
        return out.reshape(batch, height * width, self.channels)[:, :n]


__all__ = ["WaveletMixing", "WaveletMixing2D"]
