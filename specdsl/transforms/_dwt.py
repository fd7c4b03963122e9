"""Discrete wavelet transform kernels matching PyWavelets, on the last dimension.

Conventions follow ``pywt.dwt``/``pywt.idwt`` exactly:

* analysis: ``y[o] = sum_j f[j] x_ext[2 o + 1 - j]`` for ``o < floor((n + F - 1) / 2)``
  where ``x_ext`` extends ``x`` by the boundary ``mode``;
* ``"periodization"``: an odd-length input first repeats its last sample, then
  ``y[o] = sum_j f[j] x[(2 o + F/2 - j) mod n]`` for ``o < ceil(n / 2)``;
* synthesis: transposed strided convolution of the upsampled coefficients with
  ``rec_lo``/``rec_hi``, keeping ``2 m - F + 2`` samples (or ``2 m`` samples
  wrapped circularly for ``"periodization"``).

All batch rows go through one strided ``conv1d``/``conv_transpose1d`` call.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from ._common import cached_constant

SUPPORTED_WAVELETS: tuple[str, ...] = (
    "haar",
    *(f"db{i}" for i in range(1, 9)),
    *(f"sym{i}" for i in range(2, 9)),
    *(f"coif{i}" for i in range(1, 6)),
    *("bior1.1", "bior1.3", "bior1.5", "bior2.2", "bior2.4", "bior2.6", "bior2.8"),
)
MODES: tuple[str, ...] = ("symmetric", "reflect", "periodic", "zero", "constant", "periodization")


def check_wavelet(name: str) -> str:
    """Return ``name`` if supported; raise ``ValueError`` listing the supported names."""
    if name not in SUPPORTED_WAVELETS:
        raise ValueError(
            f"Unsupported wavelet {name!r}; supported: {', '.join(SUPPORTED_WAVELETS)}"
        )
    return name


def check_mode(mode: str) -> str:
    """Return ``mode`` if supported; raise ``ValueError`` listing the supported modes."""
    if mode not in MODES:
        raise ValueError(f"Unsupported mode {mode!r}; supported: {', '.join(MODES)}")
    return mode


@functools.cache
def _taps(name: str) -> tuple[tuple[float, ...], ...]:
    """``(dec_lo, dec_hi, rec_lo, rec_hi)`` of ``pywt.Wavelet(name)``."""
    import pywt  # deferred: only wavelet users need it

    w = pywt.Wavelet(check_wavelet(name))
    return tuple(tuple(float(v) for v in taps) for taps in w.filter_bank)


def filter_length(name: str) -> int:
    """Filter length ``F`` of the wavelet (always even for the supported families)."""
    return len(_taps(name)[0])


def max_level(length: int, name: str) -> int:
    """Deepest useful level, as ``pywt.dwt_max_level(length, filter_length)``."""
    import pywt

    return int(pywt.dwt_max_level(length, filter_length(name)))


@cached_constant
def _weights(name: str, dtype: torch.dtype, device: torch.device):
    """Analysis weight ``(2, 1, F)`` (reversed taps) and synthesis weight ``(2, 1, F)``."""
    dec_lo, dec_hi, rec_lo, rec_hi = (torch.tensor(t, dtype=torch.float64) for t in _taps(name))
    dec = torch.stack((dec_lo.flip(0), dec_hi.flip(0))).unsqueeze(1)
    rec = torch.stack((rec_lo, rec_hi)).unsqueeze(1)
    return dec.to(device=device, dtype=dtype), rec.to(device=device, dtype=dtype)


@cached_constant
def _extension_index(n: int, taps: int, mode: str, device: torch.device) -> torch.Tensor:
    """Gather index producing the extended signal read by the strided convolution."""
    if mode == "periodization":
        even = n + n % 2
        p = torch.arange(even + taps - 2) - (taps // 2 - 1)
        return torch.remainder(p, even).clamp(max=n - 1).to(device)
    p = torch.arange(-(taps - 2), n + taps - 1)
    if mode == "symmetric":
        r = torch.remainder(p, 2 * n)
        idx = torch.where(r < n, r, 2 * n - 1 - r)
    elif mode == "reflect":
        r = torch.remainder(p, 2 * n - 2)
        idx = torch.where(r < n, r, 2 * n - 2 - r)
    elif mode == "periodic":
        idx = torch.remainder(p, n)
    else:  # constant
        idx = p.clamp(0, n - 1)
    return idx.to(device)


def dwt_last(x: torch.Tensor, name: str, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Single-level DWT of the last dimension; returns ``(cA, cD)``."""
    n = x.shape[-1]
    if mode == "reflect" and n < 2:
        raise ValueError("mode 'reflect' needs an input length >= 2, got 1")
    dec, _ = _weights(name, x.dtype, x.device)
    taps = dec.shape[-1]
    rows = x.reshape(-1, n)
    if mode == "zero":
        ext = F.pad(rows, (taps - 2, taps - 1))
    else:
        ext = rows.index_select(-1, _extension_index(n, taps, mode, x.device))
    y = F.conv1d(ext.unsqueeze(1), dec, stride=2)
    return y[:, 0].reshape(*x.shape[:-1], -1), y[:, 1].reshape(*x.shape[:-1], -1)


def idwt_last(a: torch.Tensor, d: torch.Tensor, name: str, mode: str) -> torch.Tensor:
    """Single-level inverse DWT of the last dimension (as ``pywt.idwt``)."""
    if a.shape != d.shape:
        raise ValueError(
            f"approximation and detail coefficients must have the same shape, "
            f"got {tuple(a.shape)} and {tuple(d.shape)}"
        )
    m = a.shape[-1]
    _, rec = _weights(name, a.dtype, a.device)
    taps = rec.shape[-1]
    full = F.conv_transpose1d(torch.stack((a, d), -2).reshape(-1, 2, m), rec, stride=2)
    full = full[:, 0]  # (rows, 2m + F - 2)
    if mode == "periodization":
        period = 2 * m
        wraps = -(-full.shape[-1] // period)
        full = F.pad(full, (0, wraps * period - full.shape[-1]))
        out = full.reshape(-1, wraps, period).sum(1).roll(-(taps // 2 - 1), dims=-1)
    else:
        if 2 * m < taps - 1:
            raise ValueError(
                f"coefficients of length {m} are too short for wavelet {name!r} "
                f"(need >= {taps // 2})"
            )
        out = full[:, taps - 2 : 2 * m]
    return out.reshape(*a.shape[:-1], -1)
