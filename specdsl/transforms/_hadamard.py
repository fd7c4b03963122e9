"""Kernels for the Walsh-Hadamard and slant transforms (last dimension).

All kernels take a power-of-two length ``n`` and cost ``O(n log n)``;
:func:`pow2_apply` adds the zero-pad/crop semantics for other lengths.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._common import cached_constant, check_choice, next_pow2

PAD_MODES = ("crop", "keep")


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


def _slant_blocks(n: int) -> list[int]:
    """Block sizes ``4, 8, ..., n`` of the slant corrections."""
    return [1 << s for s in range(2, n.bit_length())]


def _slant_coeffs(block: int) -> tuple[float, float]:
    """Rotation coefficients ``(a_N, b_N)`` of the slant recursion for size ``N = block``."""
    sq = block * block
    return math.sqrt(3 * sq / (4 * (sq - 1))), math.sqrt((sq - 4) / (4 * (sq - 1)))


def _slant_fix(y: torch.Tensor, block: int, inverse: bool) -> torch.Tensor:
    """Apply the sparse correction ``C_N`` (or its transpose) in place, ``N = block``.

    In every block, positions ``(1, N/2, N/2 + 1)`` hold ``(s1, d0, d1)`` after
    the butterfly; ``C_N`` maps them to ``(b s1 + a d0, d1, a s1 - b d0)``.
    """
    a, b = _slant_coeffs(block)
    half = block // 2
    v = y.view(*y.shape[:-1], -1, block)
    p, q, r = v[..., 1], v[..., half], v[..., half + 1]
    if inverse:
        new = (b * p + a * r, a * p - b * r, q.clone())
    else:
        new = (b * p + a * q, r.clone(), a * p - b * q)
    v[..., 1] = new[0]
    v[..., half] = new[1]
    v[..., half + 1] = new[2]
    return y


def slant_last(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal slant transform of a power-of-two last dim ``n``.

    The recursion ``S_N = (1/sqrt 2) M_N diag(S_{N/2}, S_{N/2})`` factors into
    butterflies and sparse corrections ``C_N`` that touch three entries per block
    of ``N``. ``C_N`` only involves the low ``log2 N`` index bits while the larger
    butterflies act on higher bits, so they commute and
    ``S_n = C_n ... C_8 C_4 H_n / sqrt(n)``: one fast Walsh-Hadamard transform,
    ``O(n log n)``, then corrections costing ``O(n)`` in total.
    """
    n = x.shape[-1]
    y = fwht_last(x, 1.0 / math.sqrt(n)).contiguous()
    for block in _slant_blocks(n):
        y = _slant_fix(y, block, inverse=False)
    return y


def islant_last(y: torch.Tensor) -> torch.Tensor:
    """Inverse (= transpose) of :func:`slant_last`: ``H_n C_4^T ... C_n^T / sqrt(n)``."""
    n = y.shape[-1]
    y = y.clone(memory_format=torch.contiguous_format)
    for block in reversed(_slant_blocks(n)):
        y = _slant_fix(y, block, inverse=True)
    return fwht_last(y, 1.0 / math.sqrt(n))
