"""FFT-based kernels for the DCT/DST family, acting on the last dimension.

DCT-II and its inverse use Makhoul's algorithm: one real FFT of the same
length ``n`` (any ``n >= 1``) plus ``O(n)`` reordering and twiddling. The
orthonormal DCT-IV (needed by the MDCT) uses one complex FFT of length ``n / 2``
and therefore requires an even ``n``.
"""

from __future__ import annotations

import math

import torch

from ._common import cached_constant

_COMPLEX = {
    torch.float16: torch.complex32,
    torch.float32: torch.complex64,
    torch.float64: torch.complex128,
}


def complex_dtype(dtype: torch.dtype) -> torch.dtype:
    """Complex dtype with the same precision as the real ``dtype``."""
    try:
        return _COMPLEX[dtype]
    except KeyError:
        raise TypeError(f"FFT-based transforms do not support dtype {dtype}") from None


def _dct2_scale(n: int, ortho: bool) -> torch.Tensor:
    """Output scale of DCT-II relative to ``2 * sum x cos(...)`` for bins ``0..n//2``."""
    scale = torch.full((n // 2 + 1,), 1.0, dtype=torch.float64)
    if ortho:
        scale.fill_(math.sqrt(1.0 / (2 * n)))
        scale[0] = math.sqrt(1.0 / (4 * n))
    return scale


@cached_constant
def _dct2_twiddle(n: int, ortho: bool, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    k = torch.arange(n // 2 + 1, dtype=torch.float64)
    w = torch.polar(2 * _dct2_scale(n, ortho), -math.pi * k / (2 * n))
    return w.to(device=device, dtype=complex_dtype(dtype))


@cached_constant
def _dct3_twiddle(n: int, ortho: bool, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    k = torch.arange(n // 2 + 1, dtype=torch.float64)
    w = torch.polar(0.5 / _dct2_scale(n, ortho), math.pi * k / (2 * n))
    return w.to(device=device, dtype=complex_dtype(dtype))


@cached_constant
def _unshuffle_index(n: int, device: torch.device) -> torch.Tensor:
    """Index ``p`` with ``x = v[p]`` where ``v = cat(x[0::2], flip(x[1::2]))``."""
    idx = torch.arange(n)
    return torch.where(idx % 2 == 0, idx // 2, n - 1 - idx // 2).to(device)


@cached_constant
def _alternating_sign(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return (1 - 2 * (torch.arange(n) % 2)).to(device=device, dtype=dtype)


def dct2_last(x: torch.Tensor, ortho: bool, negate_odd: bool = False) -> torch.Tensor:
    """DCT-II along the last dimension (scipy ``dct(type=2)`` convention).

    With ``negate_odd`` the odd-indexed inputs are negated first (used by the DST).
    """
    n = x.shape[-1]
    odd = x[..., 1::2].flip(-1)
    v = torch.cat((x[..., 0::2], odd.neg() if negate_odd else odd), dim=-1)
    z = torch.fft.rfft(v, dim=-1) * _dct2_twiddle(n, ortho, x.dtype, x.device)
    # X[k] = Re z[k] for k <= n//2 and X[n-k] = -Im z[k] for 1 <= k < (n+1)//2.
    return torch.cat((z.real, z.imag[..., 1 : (n + 1) // 2].flip(-1).neg()), dim=-1)


def dct3_last(X: torch.Tensor, ortho: bool) -> torch.Tensor:
    """Inverse of :func:`dct2_last` (a scaled DCT-III) along the last dimension."""
    n = X.shape[-1]
    re = X[..., : n // 2 + 1]
    # im[k] = X[n-k] for k >= 1 and im[0] = 0.
    im = torch.nn.functional.pad(X[..., n - n // 2 :].flip(-1), (1, 0))
    spec = torch.complex(re, im.neg()) * _dct3_twiddle(n, ortho, X.dtype, X.device)
    v = torch.fft.irfft(spec, n=n, dim=-1)
    return v.index_select(-1, _unshuffle_index(n, X.device))


def dst2_last(x: torch.Tensor, ortho: bool) -> torch.Tensor:
    """DST-II along the last dimension: ``DST(x)[k] = DCT(x * (-1)^n)[n-1-k]``."""
    return dct2_last(x, ortho, negate_odd=True).flip(-1)


def dst3_last(X: torch.Tensor, ortho: bool) -> torch.Tensor:
    """Inverse of :func:`dst2_last` along the last dimension."""
    n = X.shape[-1]
    return dct3_last(X.flip(-1), ortho) * _alternating_sign(n, X.dtype, X.device)


@cached_constant
def _dct4_twiddles(
    n: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    half = torch.arange(n // 2, dtype=torch.float64)
    ones = torch.ones_like(half)
    pre = torch.polar(ones, -math.pi * half / n)
    post = torch.polar(ones * math.sqrt(2.0 / n), -math.pi * (half + 0.25) / n)
    cdt = complex_dtype(dtype)
    return pre.to(device=device, dtype=cdt), post.to(device=device, dtype=cdt)


def dct4_last(u: torch.Tensor) -> torch.Tensor:
    """Orthonormal DCT-IV along the last dimension (even length only).

    ``Y[k] = sqrt(2/n) * sum_m u[m] cos(pi/n (m + 1/2)(k + 1/2))``; the matrix is
    symmetric and orthogonal, so this function is its own inverse.
    """
    n = u.shape[-1]
    if n % 2:
        raise ValueError(f"dct4_last needs an even length, got {n}")
    pre, post = _dct4_twiddles(n, u.dtype, u.device)
    c = torch.complex(u[..., 0::2], u[..., 1::2].flip(-1))
    z = torch.fft.fft(c * pre, dim=-1) * post
    # Y[2k] = Re z[k], Y[n-1-2k] = -Im z[k].
    y = torch.stack((z.real, z.imag.flip(-1).neg()), dim=-1)
    return y.reshape(*u.shape)
