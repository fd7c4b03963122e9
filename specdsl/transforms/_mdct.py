"""MDCT kernels: windows, framing + folding, fast per-frame transform, overlap-add.

For ``N`` coefficients per frame of ``2N`` samples the MDCT is

``X[k] = sum_{n<2N} z[n] cos(pi/N (n + 1/2 + N/2)(k + 1/2))``.

Writing the phase as ``pi h (2k+1) / (4N)`` with ``h = 2n + 1 + N`` and using the
symmetries of the cosine in ``h`` (even, and odd about ``2N``), each input is
folded with a sign into one of ``N`` bins. The folded vector is then transformed
by an orthonormal DCT-IV (``N`` even, odd ``h``) or DCT-III (``N`` odd, even
``h``), both ``O(N log N)`` via the FFT. The IMDCT is the transpose.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._common import cached_constant
from ._dct import dct2_last, dct3_last, dct4_last

WINDOWS = ("sine", "vorbis", "kbd")
KBD_ALPHA = 4.0


@cached_constant
def mdct_window(block_size: int, name: str, dtype: torch.dtype, device: torch.device):
    """Princen-Bradley window of length ``block_size`` (``w[n]^2 + w[n+N]^2 = 1``)."""
    half = block_size // 2
    phase = math.pi * (torch.arange(block_size, dtype=torch.float64) + 0.5) / block_size
    if name == "sine":
        w = torch.sin(phase)
    elif name == "vorbis":
        w = torch.sin(0.5 * math.pi * torch.sin(phase) ** 2)
    else:  # Kaiser-Bessel-derived
        kaiser = torch.kaiser_window(
            half + 1, periodic=False, beta=math.pi * KBD_ALPHA, dtype=torch.float64
        )
        rise = torch.sqrt(torch.cumsum(kaiser[:half], 0) / kaiser.sum())
        w = torch.cat((rise, rise.flip(0)))
    return w.to(device=device, dtype=dtype)


@cached_constant
def _fold_structure(half: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bin and sign of every frame sample, plus the two samples feeding each bin.

    Returns ``(bins, coef, feeders)``: sample ``n`` (``< 2N``) enters bin
    ``bins[n]`` with factor ``coef[n]`` (sign, times the DCT-III scale for odd
    ``N``; ``0`` for the dropped bin ``N``), and ``feeders`` is ``(2, N)``: the
    samples entering each bin (for odd ``N``, bin 0 is fed by one real sample
    and the dropped one, whose factor is 0).
    """
    n2 = 2 * half
    h = 2 * torch.arange(n2) + 1 + half
    r = torch.remainder(h, 4 * n2)
    r = torch.where(r > n2 * 2, 4 * n2 - r, r)  # the cosine is even in h
    sign = 1.0 - 2.0 * (r > n2).double()  # and odd about h = 2N
    r = torch.where(r > n2, 2 * n2 - r, r)
    if half % 2 == 0:  # odd h = 2m + 1: DCT-IV kernel, exactly two samples per bin
        bins, coef = (r - 1) // 2, sign
    else:  # even h = 2m: DCT-III kernel; bin N has a zero kernel and is dropped
        bins = r // 2
        scale = 1.0 + (math.sqrt(2.0) - 1.0) * (bins == 0).double()
        coef = sign * scale * (bins != half).double()
        bins = torch.where(bins == half, 0, bins)
    order = torch.argsort(bins * 2 + (coef == 0).long(), stable=True)
    return bins, coef, torch.stack((order[0::2], order[1::2]))


@cached_constant
def _coefficients(
    half: int, window: str, normalized: bool, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(fold, unfold)`` factors, both ``(2, N)``, with the window folded in.

    Forward: bin ``m`` of a frame is ``sum_s fold[s, m] * frame[feeders[s, m]]``.
    Inverse: sample ``t`` of hop block ``j`` is
    ``unfold[0, t] * w_{j-1}[bins[N + t]] + unfold[1, t] * w_j[bins[t]]``,
    where ``w_f`` is the transposed core transform of frame ``f``.
    """
    _, coef, feeders = _fold_structure(half)
    w = mdct_window(2 * half, window, torch.float64, torch.device("cpu"))
    forward = 1.0 if normalized else math.sqrt(half / 2)
    inverse = 1.0 if normalized else math.sqrt(2.0 / half)
    weighted = coef * w
    fold = weighted[feeders] * forward
    unfold = torch.stack((weighted[half:], weighted[:half])) * inverse
    return fold.to(device=device, dtype=dtype), unfold.to(device=device, dtype=dtype)


@cached_constant
def _tiled_index(half: int, count: int, inverse: bool, device: torch.device) -> torch.Tensor:
    """Gather index over ``count`` consecutive hops of ``N`` samples, shape ``(count*2*N,)``."""
    bins, _, feeders = _fold_structure(half)
    base = torch.stack((bins[half:], half + bins[:half])) if inverse else feeders
    return (torch.arange(count)[:, None, None] * half + base).flatten().to(device)


def _gather_pairs(
    rows: torch.Tensor, index: torch.Tensor, coef: torch.Tensor, half: int
) -> torch.Tensor:
    """``sum_s coef[s, m] * rows[..., index[f, s, m]]`` -> ``(rows, count, N)``."""
    pairs = rows.index_select(-1, index).view(rows.shape[0], -1, 2, half)
    return pairs.mul_(coef).sum(-2)


def _core(x: torch.Tensor, transpose: bool) -> torch.Tensor:
    """Orthonormal DCT-IV (even ``N``) or DCT-III / its transpose DCT-II (odd ``N``)."""
    if x.shape[-1] % 2 == 0:
        return dct4_last(x)
    return dct2_last(x, True) if transpose else dct3_last(x, True)


def mdct_signal(x: torch.Tensor, block_size: int, window: str, normalized: bool) -> torch.Tensor:
    """MDCT of the rows of ``x`` ``(rows, L)`` -> ``(rows, F, N)``.

    The signal is padded with ``N`` zeros in front and zeros at the end up to
    ``(F + 1) N`` samples, ``F = ceil(L / N) + 1``, and cut into ``F`` frames of
    ``2N`` samples with hop ``N``; frames are gathered and folded in one step.
    """
    half = block_size // 2
    length = x.shape[-1]
    frames = -(-length // half) + 1
    padded = F.pad(x, (half, (frames + 1) * half - length - half))
    fold, _ = _coefficients(half, window, normalized, x.dtype, x.device)
    folded = _gather_pairs(padded, _tiled_index(half, frames, False, x.device), fold, half)
    return _core(folded, transpose=False)


def imdct_signal(X: torch.Tensor, length: int, window: str, normalized: bool) -> torch.Tensor:
    """Inverse of :func:`mdct_signal`: ``(rows, F, N)`` -> ``(rows, length)``.

    Windowed IMDCT and overlap-add in one gather: hop block ``j`` (``1 <= j < F``)
    sums the second half of frame ``j - 1`` and the first half of frame ``j``.
    """
    frames, half = X.shape[-2], X.shape[-1]
    _, unfold = _coefficients(half, window, normalized, X.dtype, X.device)
    spread = _core(X, transpose=True).flatten(-2)
    index = _tiled_index(half, frames - 1, True, X.device)
    return _gather_pairs(spread, index, unfold, half).flatten(-2)[:, :length]
