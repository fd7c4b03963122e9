"""FFT-based kernels for the DCT/DST family, acting on the last dimension.

DCT-II and its inverse use Makhoul's algorithm: one real FFT of the same
length ``n`` (any ``n >= 1``) plus ``O(n)`` reordering and twiddling. The
orthonormal DCT-IV (needed by the MDCT) uses one complex FFT of length ``n / 2``
and therefore requires an even ``n``.

Every kernel is ``gather -> (i)FFT with an in-place twiddle -> gather``: the
reorderings are cached index tensors, and the signs of the textbook formulas are
absorbed into the twiddles (multiplying by ``+-i`` swaps real and imaginary
parts up to a sign), so each call allocates only three tensors.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._common import cached_constant, on_rows

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


class _Plan(NamedTuple):
    """Cached constants of one kernel: input/output gathers, twiddles, optional sign."""

    gather_in: torch.Tensor
    twiddle: torch.Tensor
    gather_out: torch.Tensor
    sign: torch.Tensor | None = None
    pre_twiddle: torch.Tensor | None = None


def _makhoul_order(n: int) -> torch.Tensor:
    """``p`` with ``x[p] = [x0, x2, x4, ..., odd-indexed samples in reverse]``."""
    idx = torch.arange(n)
    return torch.cat((idx[0::2], idx[1::2].flip(0)))


def _dct2_scale(n: int, ortho: bool) -> torch.Tensor:
    """Scale of DCT-II bins ``0..n//2`` relative to scipy's ``norm=None``."""
    scale = torch.ones(n // 2 + 1, dtype=torch.float64)
    if ortho:
        scale.fill_(math.sqrt(1.0 / (2 * n)))
        scale[0] = math.sqrt(1.0 / (4 * n))
    return scale


def _alternating(n: int) -> torch.Tensor:
    return 1.0 - 2.0 * (torch.arange(n) % 2).double()


def _finish(plan: _Plan, dtype: torch.dtype, device: torch.device) -> _Plan:
    """Move a plan built in float64/complex128 on the CPU to ``dtype`` and ``device``."""
    cdtype = complex_dtype(dtype)

    def move(t: torch.Tensor) -> torch.Tensor:
        return t.to(device, dtype=_target_dtype(t, dtype, cdtype))

    def move_optional(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else move(t)

    return _Plan(
        move(plan.gather_in),
        move(plan.twiddle),
        move(plan.gather_out),
        move_optional(plan.sign),
        move_optional(plan.pre_twiddle),
    )


def _target_dtype(t: torch.Tensor, dtype: torch.dtype, cdtype: torch.dtype) -> torch.dtype:
    if t.is_complex():
        return cdtype
    return dtype if t.is_floating_point() else t.dtype


@cached_constant
def _forward_plan(n: int, ortho: bool, dst: bool, dtype, device) -> _Plan:
    """DCT-II (or DST-II) plan.

    With ``z = rfft(x[p]) * 2 * scale * exp(-i pi k / 2n)`` scipy's DCT-II is
    ``X[k] = Re z[k]`` and ``X[n-k] = -Im z[k]``; the twiddle carries an extra
    ``i`` so that both read directly from the interleaved ``(Re, Im)`` view.
    DST-II is the reversed DCT-II of ``x * (-1)^j``.
    """
    m = n // 2 + 1
    k = torch.arange(m, dtype=torch.float64)
    twiddle = 1j * torch.polar(2 * _dct2_scale(n, ortho), -math.pi * k / (2 * n))
    # (i z)[k] = (-Im z[k], Re z[k]): X[k] sits at 2k + 1, X[n-k] at 2k.
    out = torch.empty(n, dtype=torch.long)
    out[:m] = 2 * torch.arange(m) + 1
    out[m:] = (2 * torch.arange(1, (n + 1) // 2)).flip(0)
    order = _makhoul_order(n)
    sign = _alternating(n)[order] if dst else None
    return _finish(_Plan(order, twiddle, out.flip(0) if dst else out, sign), dtype, device)


@cached_constant
def _inverse_plan(n: int, ortho: bool, dst: bool, dtype, device) -> _Plan:
    """Inverse of :func:`_forward_plan`.

    ``V[k] = conj(w_k) (X[k] - i X[n-k]) / (2 scale_k)``, written as
    ``-i conj(w_k) (X[n-k] + i X[k]) / (2 scale_k)``, and ``x[p] = irfft(V)``. The
    missing ``X[n]`` (imaginary part of the DC bin, which ``irfft`` ignores) is
    read from index 0.
    """
    m = n // 2 + 1
    k = torch.arange(m)
    twiddle = -1j * torch.polar(0.5 / _dct2_scale(n, ortho), math.pi * k.double() / (2 * n))
    gather = torch.stack((torch.remainder(n - k, n), k), -1).flatten()
    if dst:  # idst(Y) = (-1)^j * idct(reverse(Y))
        gather = n - 1 - gather
    unshuffle = torch.argsort(_makhoul_order(n))
    sign = _alternating(n) if dst else None
    return _finish(_Plan(gather, twiddle, unshuffle, sign), dtype, device)


@on_rows
def _run_forward(x: torch.Tensor, plan: _Plan) -> torch.Tensor:
    v = x.index_select(-1, plan.gather_in)
    if plan.sign is not None:
        v.mul_(plan.sign)
    z = torch.fft.rfft(v, dim=-1).mul_(plan.twiddle)
    return torch.view_as_real(z).flatten(-2).index_select(-1, plan.gather_out)


@on_rows
def _run_inverse(X: torch.Tensor, plan: _Plan) -> torch.Tensor:
    n = X.shape[-1]
    pairs = X.index_select(-1, plan.gather_in).unflatten(-1, (-1, 2))
    spec = torch.view_as_complex(pairs).mul_(plan.twiddle)
    x = torch.fft.irfft(spec, n=n, dim=-1).index_select(-1, plan.gather_out)
    return x if plan.sign is None else x.mul_(plan.sign)


def dct2_last(x: torch.Tensor, ortho: bool) -> torch.Tensor:
    """DCT-II along the last dimension (scipy ``dct(type=2)`` convention)."""
    return _run_forward(x, _forward_plan(x.shape[-1], ortho, False, x.dtype, x.device))


def dct3_last(X: torch.Tensor, ortho: bool) -> torch.Tensor:
    """Inverse of :func:`dct2_last` (a scaled DCT-III) along the last dimension."""
    return _run_inverse(X, _inverse_plan(X.shape[-1], ortho, False, X.dtype, X.device))


def dst2_last(x: torch.Tensor, ortho: bool) -> torch.Tensor:
    """DST-II along the last dimension: ``DST(x)[k] = DCT(x * (-1)^j)[n-1-k]``."""
    return _run_forward(x, _forward_plan(x.shape[-1], ortho, True, x.dtype, x.device))


def dst3_last(X: torch.Tensor, ortho: bool) -> torch.Tensor:
    """Inverse of :func:`dst2_last` along the last dimension."""
    return _run_inverse(X, _inverse_plan(X.shape[-1], ortho, True, X.dtype, X.device))


@cached_constant
def _dct4_plan(n: int, dtype, device) -> _Plan:
    """Orthonormal DCT-IV via a complex FFT of length ``n/2``.

    ``c[p] = u[2p] + i u[n-1-2p]``, ``Z = fft(c * exp(-i pi p / n)) * sqrt(2/n)
    exp(-i pi (k + 1/4) / n)``, then ``Y[2k] = Re Z[k]`` and ``Y[n-1-2k] = -Im Z[k]``
    (read from ``i Z`` without a sign flip).
    """
    half = torch.arange(n // 2)
    gather = torch.stack((2 * half, n - 1 - 2 * half), -1).flatten()
    ones = torch.ones(n // 2, dtype=torch.float64)
    pre = torch.polar(ones, -math.pi * half.double() / n)
    post = 1j * torch.polar(ones * math.sqrt(2.0 / n), -math.pi * (half.double() + 0.25) / n)
    out = torch.empty(n, dtype=torch.long)
    out[0::2] = 2 * half + 1
    out[1::2] = (2 * half).flip(0)
    return _finish(_Plan(gather, post, out, pre_twiddle=pre), dtype, device)


@on_rows
def dct4_last(u: torch.Tensor) -> torch.Tensor:
    """Orthonormal DCT-IV along the last dimension (even length only).

    ``Y[k] = sqrt(2/n) * sum_m u[m] cos(pi/n (m + 1/2)(k + 1/2))``; the matrix is
    symmetric and orthogonal, so this function is its own inverse.
    """
    n = u.shape[-1]
    if n % 2:
        raise ValueError(f"dct4_last needs an even length, got {n}")
    plan = _dct4_plan(n, u.dtype, u.device)
    pre = plan.pre_twiddle
    assert pre is not None  # the DCT-IV plan always carries its pre-twiddle
    c = torch.view_as_complex(u.index_select(-1, plan.gather_in).unflatten(-1, (-1, 2)))
    z = torch.fft.fft(c.mul_(pre), dim=-1).mul_(plan.twiddle)
    return torch.view_as_real(z).flatten(-2).index_select(-1, plan.gather_out)
