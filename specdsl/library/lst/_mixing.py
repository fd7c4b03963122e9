"""The causal spectral product ``T^-1(T(q) * T(k) * T(v))`` along the sequence, per group.

(The non-causal product has its own kernels: :mod:`specdsl.library.lst._fast` and
:mod:`specdsl.library.lst._grouped`.) Heads are split into contiguous groups by transform
*family*: ``cosine`` (DCT-II and DST-II heads together: ``DST(x) = flip(DCT(x * (-1)^i))``
and the flips cancel inside the product, so a DST head is a DCT head with its inputs and
output multiplied by ``(-1)^i``), ``hadamard`` and ``fourier``. Each family is one batched
call over q, k and v of all its heads at once; no loop runs over heads or channels.

Causal mode evaluates, for every output position ``t``, the same formula with the
positions after ``t`` treated as padding (zeroed q, k, v). With ``T`` the ``s x n`` matrix
of the transform and ``G`` the ``n x s`` matrix of its inverse,

    y_t = Re sum_f G[t, f] P_q[t, f] P_k[t, f] P_v[t, f],   P_x[t, f] = sum_{i <= t} T[f, i] x_i,

computed with prefix sums (``cumsum``) over ``i``: exactly causal, ``O(n s)`` work per
column. :class:`PrefixProduct` runs it in ``ceil(sqrt(n))``-row chunks, carrying the prefix
sums from chunk to chunk, and keeps for backward only q, k, v and the final prefix sums
(``3 n + 3 s`` numbers per column): its backward walks the chunks in reverse, recovering
each chunk's starting prefix sums by subtraction, so memory is ``O(n)`` kept and
``O(sqrt(n) s)`` live per column.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from specdsl.library.attention._shared import cached_tensors
from specdsl.library.lst import causal_chunk, padded_length
from specdsl.library.lst._fast import complex_of, hadamard_matrix
from specdsl.library.lst._plan import Family, plan_families
from specdsl.transforms import functional as T


@cached_tensors()
def _modulation(
    heads: int, dst_from: int, n: int, dtype: torch.dtype, device: torch.device
) -> Tensor:
    """``(h, 1, 1, n)``: ``(-1)^i`` along the sequence for heads ``dst_from:``, 1 before."""
    alternating = 1.0 - 2.0 * (torch.arange(n) % 2).to(torch.float64)
    dst = (torch.arange(heads) >= dst_from)[:, None]
    signs = torch.where(dst, alternating, torch.ones(n, dtype=torch.float64))
    return signs[:, None, None, :].to(device=device, dtype=dtype)


@cached_tensors(maxsize=8)  # dense n x s matrices: keep few
def _operators(
    family: str, n: int, normalize: bool, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, Tensor]:
    """``(T^T, G)``, both ``(n, s)``: the transform and its inverse as dense matrices.

    ``T^T[i, f] = T(e_i)[f]`` and ``G[t, f]`` is output ``t`` of the inverse of the unit
    coefficient ``f``; the FFT ones are complex with ``y = Re(G X)``.
    """
    eye = torch.eye(n, dtype=torch.float64)
    if family == "cosine":
        norm = "ortho" if normalize else None
        forward, inverse = T.dct(eye, dim=0, norm=norm), T.idct(eye, dim=0, norm=norm)
    elif family == "hadamard":
        m = padded_length("hadamard", n)
        into, back = (m**-0.5, m**-0.5) if normalize else (1.0, 1.0 / m)
        matrix = hadamard_matrix(m, 1.0, torch.float64, torch.device("cpu"))
        forward, inverse = matrix[:, :n] * into, matrix[:n] * back  # no matmul: not counted
    else:
        norm = "ortho" if normalize else "backward"
        forward = torch.fft.rfft(eye, dim=0, norm=norm)
        unit = torch.eye(n // 2 + 1, dtype=torch.complex128)
        real = torch.fft.irfft(unit, n=n, dim=0, norm=norm)
        imag = torch.fft.irfft(1j * unit, n=n, dim=0, norm=norm)
        inverse = torch.complex(real, -imag)
        dtype = complex_of(dtype)
    return forward.T.to(device=device, dtype=dtype), inverse.to(device=device, dtype=dtype)


def _chunks(n: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: ``ceil(sqrt(n))`` rows each (the last one maybe fewer)."""
    size = causal_chunk(n)
    return [(start, min(n, start + size)) for start in range(0, n, size)]


def _rows(qkv: Tensor, signs: Tensor | None, start: int, stop: int) -> Tensor:
    """Rows ``start:stop`` of ``qkv`` ``(3, ..., n)``, times the DST signs if any."""
    rows = qkv[..., start:stop]
    return rows if signs is None else rows * signs[..., start:stop]


def _prefix(rows: Tensor, forward_t: Tensor, carry: Tensor | None = None) -> Tensor:
    """``carry + sum_{start <= i <= t} T[f, i] x_i`` for the rows of one chunk.

    ``rows`` ``(3, ..., c)``, ``forward_t`` ``(c, s)``, ``carry`` ``(3, ..., s)`` (the sums
    before the chunk, added to its first row only); returns ``(3, ..., c, s)``.
    """
    terms = rows.unsqueeze(-1) * forward_t
    if carry is not None:
        terms[..., 0, :] += carry
    return terms.cumsum_(dim=-2)


def _contract(terms: Tensor, operator: Tensor) -> Tensor:
    """``Re sum_f terms[..., t, f] operator[t, f]``: ``(..., c)``."""
    out = terms.mul_(operator).sum(dim=-1)
    return out.real if out.is_complex() else out


def _partials(prefix: Tensor) -> Tensor:
    """``(P_k P_v, P_q P_v, P_q P_k)`` in place of ``prefix`` ``(P_q, P_k, P_v)``."""
    q, k, v = prefix
    kv, qk = k * v, q * k
    k.copy_(q).mul_(v)
    q.copy_(kv)
    v.copy_(qk)
    return prefix


def _suffix_sums(rows: Tensor, later: Tensor | None) -> Tensor:
    """``later + sum_{t' >= t} rows[..., t', :]`` for every row ``t`` (``later``: the sum over
    the rows after the chunk), in place of ``rows`` ``(..., c, s)``."""
    sums = rows.cumsum(dim=-2)
    rows.sub_(sums).add_(sums[..., -1:, :])
    return rows if later is None else rows.add_(later.unsqueeze(-2))


class PrefixProduct(torch.autograd.Function):
    """The causal prefix product of one head group, keeping ``O(n)`` per column for backward.

    ``apply(qkv, forward_t, inverse, signs)``: ``qkv`` ``(3, ..., n)`` real; ``forward_t``
    and ``inverse`` the ``(n, s)`` operators of :func:`_operators`; ``signs`` ``(..., n)``
    broadcastable to a column (the ``(-1)^i`` of DST heads, 1 elsewhere) or ``None``.
    Returns ``(..., n)``. Kept for backward: ``qkv`` (the caller's tensor, no copy) and the
    prefix sums over the whole sequence, ``(3, ..., s)``. Not twice differentiable.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: FunctionCtx, qkv: Tensor, forward_t: Tensor, inverse: Tensor, signs: Tensor | None
    ) -> Tensor:
        n = qkv.shape[-1]
        y = qkv.new_empty(qkv.shape[1:])
        carry = None
        for start, stop in _chunks(n):  # ceil(sqrt(n)) chunks, not positions
            prefix = _prefix(_rows(qkv, signs, start, stop), forward_t[start:stop], carry)
            carry = prefix[..., -1, :].clone()
            q, k, v = prefix
            y[..., start:stop] = _contract(q.mul_(k).mul_(v), inverse[start:stop])
        if signs is not None:
            y.mul_(signs)
        # save_for_backward accepts None entries (torch docs); its stub types them as Tensor
        ctx.save_for_backward(qkv, carry, forward_t, inverse, signs)  # type: ignore[arg-type]
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        """Chunks in reverse: ``dx_i = Re sum_f T[f, i] sum_{t >= i} dP[t, f]``, with
        ``dP_q[t, f] = dy_t G[t, f] P_k[t, f] P_v[t, f]`` (and likewise for k and v)."""
        qkv, carry, forward_t, inverse, signs = ctx.saved_tensors  # type: ignore[attr-defined]
        if signs is not None:
            grad = grad * signs
        grad_qkv = torch.empty_like(qkv)
        later = None  # sum over the rows after the chunk of dP, (3, ..., s)
        for start, stop in reversed(_chunks(qkv.shape[-1])):
            prefix = _prefix(_rows(qkv, signs, start, stop), forward_t[start:stop])
            carry = carry - prefix[..., -1, :]  # the prefix sums before the chunk
            prefix += carry.unsqueeze(-2)
            g = grad[..., start:stop].unsqueeze(-1) * inverse[start:stop]
            partial = _suffix_sums(_partials(prefix).mul_(g), later)
            later = partial[..., 0, :].clone()
            grad_qkv[..., start:stop] = _contract(partial, forward_t[start:stop])
        if signs is not None:
            grad_qkv.mul_(signs)
        return grad_qkv, None, None, None


class SpectralProduct:
    """The parameter-free causal mixing of an LST-type layer (prefix operators).

    The non-causal product has its own fast kernels (:mod:`specdsl.library.lst._fast`).

    Parameters
    ----------
    groups : list of (kind, count)
        Contiguous head groups, kinds among ``dct``, ``dst``, ``hadamard``, ``fft``.
    normalize : bool
        Orthonormal transforms (else the unnormalised forward with its exact inverse).
    """

    def __init__(self, groups: list[tuple[str, int]], normalize: bool = True) -> None:
        self.families = plan_families(tuple(groups))
        self.normalize = normalize

    def __call__(self, qkv: Tensor, family: Family) -> Tensor:
        """Mix the heads of ``family`` in stacked ``qkv`` ``(3, H, d, B, n)`` causally.

        Returns ``(h, d, B, n)`` (``h`` heads of the family), contiguous.
        """
        n = qkv.shape[-1]
        qkv = qkv[:, family.start : family.stop]
        forward_t, inverse = _operators(family.name, n, self.normalize, qkv.dtype, qkv.device)
        signs = None
        if family.dst_start < family.stop:
            dst_from = family.dst_start - family.start
            signs = _modulation(family.heads, dst_from, n, qkv.dtype, qkv.device)
        return PrefixProduct.apply(qkv, forward_t, inverse, signs)


__all__ = ["PrefixProduct", "SpectralProduct"]
