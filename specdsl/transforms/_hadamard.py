"""Butterfly kernels for the Walsh-Hadamard and slant transforms (last dimension).

All kernels take a power-of-two length ``n`` and run vectorised stages
(``O(n log n)`` in total); :func:`pow2_apply` adds the zero-pad/crop semantics
for other lengths.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._common import cached_constant, check_choice, next_pow2

PAD_MODES = ("crop", "keep")
_SQRT1_2 = math.sqrt(0.5)


def pow2_apply(
    x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor], pad: str
) -> torch.Tensor:
    """Zero-pad the last dim of ``x`` to a power of two, apply ``fn``, then crop or keep.

    With ``pad="crop"`` the output is cropped back to the input length; with
    ``pad="keep"`` the padded length (next power of two) is returned.
    """
    check_choice(pad, "pad", PAD_MODES)
    n = x.shape[-1]
    m = next_pow2(n)
    if m == n:
        return fn(x)
    y = fn(F.pad(x, (0, m - n)))
    return y[..., :n] if pad == "crop" else y


def _split_halves(x: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """View the last dim as blocks of length ``block``; return their two halves."""
    y = x.reshape(*x.shape[:-1], x.shape[-1] // block, 2, block // 2)
    return y[..., 0, :], y[..., 1, :]


def _join_halves(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_split_halves`: concatenate halves back into the last dim."""
    y = torch.stack((first, second), dim=-2)
    return y.reshape(*y.shape[:-3], -1)


def _block_sizes(n: int) -> list[int]:
    return [1 << s for s in range(1, n.bit_length())]


_MAX_RADIX_BITS = 5


def _radix_bits(bits: int) -> list[int]:
    """Split ``bits`` into as few near-equal stages of at most ``_MAX_RADIX_BITS`` as possible."""
    stages = -(-bits // _MAX_RADIX_BITS)
    base, extra = divmod(bits, stages)
    return [base + 1] * extra + [base] * (stages - extra)


@cached_constant
def hadamard_matrix(size: int, scale: float, dtype: torch.dtype, device: torch.device):
    """Sylvester Hadamard matrix of a power-of-two ``size``, times ``scale``."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < size:
        h = torch.cat((torch.cat((h, h), 1), torch.cat((h, -h), 1)), 0)
    return (h * scale).to(device=device, dtype=dtype)


def fwht_last(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``scale * H_n @ x`` (Sylvester order) for a power-of-two last dim ``n``.

    Since ``H_n = H_r1 (x) H_r2 (x) ...`` (Kronecker), each stage applies a small
    ``H_r`` (``r <= 32``) to the leading ``log2 r`` index bits with one batched
    matmul and rotates those bits to the end (a transpose). After all stages the
    bits are back in order: ``ceil(log2(n) / 5)`` stages of ``O(n r)`` work.
    """
    n = x.shape[-1]
    lead = x.shape[:-1]
    if n == 1:
        return x * scale
    for stage, bits in enumerate(_radix_bits(n.bit_length() - 1)):
        r = 1 << bits
        h = hadamard_matrix(r, scale if stage == 0 else 1.0, x.dtype, x.device)
        x = torch.matmul(h, x.reshape(*lead, r, n // r)).transpose(-1, -2).reshape(*lead, n)
    return x


def sequency_permutation(n: int) -> list[int]:
    """Natural-order row index of the Walsh function with ``s`` sign changes, ``s < n``."""
    bits = n.bit_length() - 1
    out = []
    for s in range(n):
        gray = s ^ (s >> 1)
        out.append(int(f"{gray:0{bits}b}"[::-1], 2) if bits else 0)
    return out


@cached_constant
def sequency_index(n: int, device: torch.device) -> torch.Tensor:
    """Cached :func:`sequency_permutation` as a tensor on ``device``."""
    return torch.tensor(sequency_permutation(n), dtype=torch.long, device=device)


@cached_constant
def sequency_inverse_index(n: int, device: torch.device) -> torch.Tensor:
    """Inverse permutation of :func:`sequency_index`."""
    return torch.argsort(sequency_index(n, device))


def _slant_coeffs(block: int) -> tuple[float, float]:
    """Rotation coefficients ``(a_N, b_N)`` of the slant recursion for size ``N = block``."""
    sq = block * block
    return math.sqrt(3 * sq / (4 * (sq - 1))), math.sqrt((sq - 4) / (4 * (sq - 1)))


def slant_last(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal slant transform of a power-of-two last dim, in ``O(n log n)``.

    Stage ``N`` applies ``(1/sqrt 2) M_N`` of the recursion
    ``S_N = (1/sqrt 2) M_N diag(S_{N/2}, S_{N/2})`` to every block of length ``N``.
    """
    for block in _block_sizes(x.shape[-1]):
        u, w = _split_halves(x, block)
        s, d = (u + w) * _SQRT1_2, (u - w) * _SQRT1_2
        if block > 2:
            a, b = _slant_coeffs(block)
            s0, s1, d0, d1 = s[..., :1], s[..., 1:2], d[..., :1], d[..., 1:2]
            s, d = (
                torch.cat((s0, a * d0 + b * s1, s[..., 2:]), dim=-1),
                torch.cat((d1, a * s1 - b * d0, d[..., 2:]), dim=-1),
            )
        x = _join_halves(s, d)
    return x


def islant_last(y: torch.Tensor) -> torch.Tensor:
    """Inverse (= transpose) of :func:`slant_last`."""
    for block in reversed(_block_sizes(y.shape[-1])):
        s, d = _split_halves(y, block)
        if block > 2:
            a, b = _slant_coeffs(block)
            f0, f1, g0, g1 = s[..., :1], s[..., 1:2], d[..., :1], d[..., 1:2]
            s, d = (
                torch.cat((f0, b * f1 + a * g1, s[..., 2:]), dim=-1),
                torch.cat((a * f1 - b * g1, g0, d[..., 2:]), dim=-1),
            )
        y = _join_halves((s + d) * _SQRT1_2, (s - d) * _SQRT1_2)
    return y
