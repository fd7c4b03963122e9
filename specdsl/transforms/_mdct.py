"""MDCT kernels: framing, windows, fast per-frame transform and overlap-add.

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

from ._common import cached_constant, on_rows
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
def _fold_tables(half: int, normalized: bool, dtype: torch.dtype, device: torch.device):
    """Tables folding ``2N`` windowed samples into ``N`` bins (``N = half``).

    Returns ``(first, second, first_coef, second_coef, bins, unfold_coef)``: bin
    ``m`` receives ``first_coef[m] * z[first[m]] + second_coef[m] * z[second[m]]``,
    and sample ``n`` of the IMDCT is ``unfold_coef[n] * w[bins[n]]``.
    """
    n2 = 2 * half
    h = 2 * torch.arange(n2) + 1 + half
    r = torch.remainder(h, 4 * n2)
    r = torch.where(r > n2 * 2, 4 * n2 - r, r)  # cos is even in h
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
    # After sorting, each bin owns two consecutive slots (for odd N, bin 0 has
    # one real sample plus the dropped bin-N sample, whose coefficient is 0).
    first, second = order[0::2], order[1::2]
    fwd = 1.0 if normalized else math.sqrt(half / 2)
    inv = 1.0 if normalized else math.sqrt(2.0 / half)
    tables = (first, second, coef[first] * fwd, coef[second] * fwd, bins, coef * inv)
    return tuple(
        t.to(device=device, dtype=dtype if t.is_floating_point() else torch.long) for t in tables
    )


@on_rows
def mdct_frames(z: torch.Tensor, normalized: bool) -> torch.Tensor:
    """MDCT of windowed frames ``z`` (last dim ``2N``) -> last dim ``N``."""
    half = z.shape[-1] // 2
    first, second, c1, c2, _, _ = _fold_tables(half, normalized, z.dtype, z.device)
    folded = z.index_select(-1, first) * c1 + z.index_select(-1, second) * c2
    return dct4_last(folded) if half % 2 == 0 else dct3_last(folded, True)


@on_rows
def imdct_frames(X: torch.Tensor, normalized: bool) -> torch.Tensor:
    """Transpose of :func:`mdct_frames` (times ``2/N`` unless normalised)."""
    half = X.shape[-1]
    *_, bins, coef = _fold_tables(half, normalized, X.dtype, X.device)
    w = dct4_last(X) if half % 2 == 0 else dct2_last(X, True)
    return w.index_select(-1, bins) * coef


def frame_signal(x: torch.Tensor, block_size: int) -> torch.Tensor:
    """Frame the last dim: pad ``N`` zeros in front and to ``(F + 1) N`` in total.

    ``F = ceil(L / N) + 1`` frames of ``2N`` samples with hop ``N``, so every
    input sample lies in exactly two frames. Returns ``(..., F, 2N)``.
    """
    half = block_size // 2
    length = x.shape[-1]
    frames = -(-length // half) + 1
    padded = F.pad(x, (half, (frames + 1) * half - length - half))
    return padded.unfold(-1, block_size, half)


def overlap_add(frames: torch.Tensor, length: int) -> torch.Tensor:
    """Overlap-add ``(..., F, 2N)`` frames with hop ``N``; undo the padding of
    :func:`frame_signal` and return the first ``length`` samples."""
    half = frames.shape[-1] // 2
    head, tail = frames[..., :half], frames[..., half:]
    summed = F.pad(head, (0, 0, 0, 1)) + F.pad(tail, (0, 0, 1, 0))
    return summed.flatten(-2)[..., half : half + length]
