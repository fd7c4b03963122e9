"""Wavelet token mixers: torch modules on the DWT of :mod:`specdsl.transforms`.

Bands are kept in pywt order, ``[cA_L, cD_L, ..., cD_1]`` (1-D) and
``[cA_L, (cH_L, cV_L, cD_L), ..., (cH_1, cV_1, cD_1)]`` (2-D). The only Python loops run
over decomposition levels (each level reads the previous one's output).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.library.fourier.checks import check_choice, check_dropout, check_int
from specdsl.library.fourier.spectral import cached
from specdsl.library.wavelet import (
    WAVELETS,
    WaveletConfigBase,
    causal_delay,
    grid_shape,
)
from specdsl.transforms import functional as TF


def _fit(approximation: Tensor, detail: Tensor) -> Tensor:
    """Drop the approximation's extra trailing samples (pywt's ``waverec`` rule)."""
    for dim in range(detail.dim() - 1, detail.dim() - 3, -1):
        if approximation.shape[dim] > detail.shape[dim]:
            approximation = approximation.narrow(dim, 0, detail.shape[dim])
    return approximation


@cached
def level_plan(
    lengths: tuple[int, ...], levels: tuple[int, ...], shift: int, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Where ``level`` mixing reads each source band for each target coefficient.

    Target coefficient ``k`` of a band at level ``j`` reads, from a band at level ``j'``:
    ``k`` (same level), ``floor(k / 2^(j'-j)) - shift`` (coarser band: nearest earlier
    coefficient; ``shift = 1`` when causal) or ``2^(j-j') (k + 1) - 1`` (finer band: the
    last coefficient of the block ``k`` covers). Out-of-range reads point at index
    ``sum(lengths)``, a zero. Returns ``(index (T, bands), band of each coefficient (T,))``.
    """
    total = sum(lengths)
    offsets = [sum(lengths[:i]) for i in range(len(lengths))]
    rows, owners = [], []
    for band, (length, level) in enumerate(zip(lengths, levels, strict=True)):
        k = torch.arange(length)
        columns = []
        for source, (src_length, src_level) in enumerate(zip(lengths, levels, strict=True)):
            step = src_level - level
            coarser = (k >> step) - (shift if step else 0)
            src = coarser if step >= 0 else ((k + 1) << -step) - 1
            valid = (src >= 0) & (src < src_length)
            columns.append(torch.where(valid, src + offsets[source], total))
        rows.append(torch.stack(columns, dim=1))
        owners.append(torch.full((length,), band))
    return torch.cat(rows).to(device), torch.cat(owners).to(device)


def _band_parameter(mode: str, bands: int, channels: int) -> nn.Parameter:
    """Identity-initialised mixing weights: a scale ``(bands, C)`` or matrices ``(bands, C, C)``."""
    if mode == "channel":
        return nn.Parameter(torch.eye(channels).repeat(bands, 1, 1))
    return nn.Parameter(torch.ones(bands, channels))


def _mix_band(weight: Tensor, band: Tensor, channel_mixing: bool) -> Tensor:
    """Apply one band's weight to coefficients ``(B, C, ...)`` (channels in dim 1)."""
    weight = weight.to(band.dtype)
    if channel_mixing:
        return torch.einsum("ce,bc...->be...", weight, band)
    return band * weight.view(-1, *([1] * (band.dim() - 2)))


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
        self.levels = check_int("levels", levels)
        if levels > 10:
            raise ValueError(f"levels must be an integer in [1, 10], got {levels}")
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

    def decompose(self, signal: Tensor) -> list[Tensor]:
        """``[cA_L, cD_L, ..., cD_1]`` of ``signal`` ``(B, D, n)`` along its last dim."""
        approximation, details = signal, []
        for _ in range(self.levels):  # each level transforms the previous approximation
            approximation, detail = TF.dwt(approximation, self.wavelet, self.extension)
            details.append(detail)
        return [approximation, *details[::-1]]

    def mix_levels(self, bands: list[Tensor]) -> list[Tensor]:
        """``level`` mode: every band from all bands, read through :func:`level_plan`."""
        lengths = tuple(band.shape[-1] for band in bands)
        band_levels = (self.levels, *range(self.levels, 0, -1))
        index, owner = level_plan(lengths, band_levels, int(self.causal), bands[0].device)
        flat = F.pad(torch.cat(bands, dim=-1), (0, 1))
        weight = self.level_weight.to(flat.dtype)[owner].permute(2, 0, 1)  # (D, T, bands)
        mixed = (flat[..., index] * weight).sum(-1)
        return list(mixed.split(lengths, dim=-1))

    def reconstruct(self, bands: list[Tensor], mix: Callable[[Tensor, int], Tensor]) -> Tensor:
        """Inverse DWT of ``bands`` with ``mix(band, index)`` applied to each band first."""
        approximation = mix(bands[0], 0)
        for index, detail in enumerate(bands[1:], start=1):
            detail = mix(detail, index)
            approximation = _fit(approximation, detail)
            approximation = TF.idwt(approximation, detail, self.wavelet, self.extension)
        return approximation

    def _mix(self, band: Tensor, index: int) -> Tensor:
        if self.mixing_mode == "level":
            return band
        return _mix_band(self.band_weight[index], band, self.mixing_mode == "channel")

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix ``x`` ``(B, N, D)``; ``mask`` is unused (padded positions arrive zeroed)."""
        n = x.shape[1]
        signal = F.pad(x.transpose(1, 2), (self.delay, 0))
        bands = self.decompose(signal)
        if self.mixing_mode == "level":
            bands = self.mix_levels(bands)
        out = self.reconstruct(bands, self._mix)[..., :n]
        return self.dropout(out.transpose(1, 2))


class WaveletMixing2D(nn.Module):
    """2-D DWT, learnable mixing of the subbands, inverse DWT.

    Inputs: images ``(B, C, H, W)`` (returned in that layout), or tokens ``(B, N, C)``
    laid row-major on a grid of width ``ceil(sqrt(N))`` and height ``ceil(N / width)``
    (the last row zero-padded; the output is read back in the same order).

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
        self.levels = check_int("levels", levels)
        if levels > 10:
            raise ValueError(f"levels must be an integer in [1, 10], got {levels}")
        self.mixing_mode = check_choice("mixing_mode", mixing_mode, ("subband", "channel"))
        self.band_weight = _band_parameter(mixing_mode, 3 * levels + 1, channels)

    @classmethod
    def from_config(cls, config: WaveletConfigBase) -> Self:
        """Build the module from its validated config."""
        return cls(**config.model_dump())

    def _mix(self, band: Tensor, index: int) -> Tensor:
        return _mix_band(self.band_weight[index], band, self.mixing_mode == "channel")

    def mix_image(self, image: Tensor) -> Tensor:
        """Transform, mix and invert ``image`` ``(B, C, H, W)``."""
        approximation, details = image, []
        for _ in range(self.levels):  # each level transforms the previous approximation
            approximation, detail = TF.dwt2(approximation, self.wavelet, "symmetric")
            details.append(detail)
        approximation = self._mix(approximation, 0)
        for level, detail in enumerate(reversed(details)):
            first = 1 + 3 * level
            mixed = tuple(self._mix(band, first + k) for k, band in enumerate(detail))
            approximation = _fit(approximation, mixed[0])
            approximation = TF.idwt2((approximation, mixed), self.wavelet, "symmetric")
        return approximation[..., : image.shape[-2], : image.shape[-1]]

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix tokens ``(B, N, C)`` or an image ``(B, C, H, W)``; ``mask`` is unused."""
        if x.dim() == 4 and x.shape[1] == self.channels:
            return self.mix_image(x)
        if x.dim() != 3 or x.shape[-1] != self.channels:
            raise ValueError(
                f"expected tokens (B, N, {self.channels}) or an image (B, {self.channels}, H, W),"
                f" got {tuple(x.shape)}"
            )
        batch, n, _ = x.shape
        height, width = grid_shape(n)
        grid = F.pad(x, (0, 0, 0, height * width - n))
        grid = grid.view(batch, height, width, self.channels).permute(0, 3, 1, 2)
        out = self.mix_image(grid).permute(0, 2, 3, 1).reshape(batch, height * width, self.channels)
        return out[:, :n]


__all__ = ["WaveletMixing", "WaveletMixing2D"]
