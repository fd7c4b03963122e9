"""The non-causal spectral product ``T^-1(T q * T k * T v)`` with as few passes as possible.

Each function takes the stacked projections of one head group and returns the mixed
values; all heads and channels of a group go through one batched call, and nothing here
loops over heads, channels or positions.

* **Cosine** (DCT-II and DST-II heads). Makhoul's algorithm computes ``DCT(x)`` from one
  real FFT of the reordered sequence ``v = [x_0, x_2, ..., x_3, x_1]``:
  ``z_k = V_k e^{-i pi k / 2n}`` (times a real per-bin scale), ``X_k = Re z_k`` and
  ``X_{n-k} = -Im z_k``. The product of three spectra therefore needs no reordering at all:
  ``P = (prod Re z) + i (prod Im z)`` is exactly the half spectrum the inverse (DCT-III)
  expects, up to a per-bin twiddle, so the whole product is one ``rfft``, one twiddle, two
  real products (on ``view_as_real``) and one ``irfft``. A DST head is a DCT head with its
  inputs and output multiplied by ``(-1)^i``; in the reordered sequence that is ``+1`` on
  the first ``ceil(n/2)`` positions and ``-1`` on the rest.
* **Hadamard**. ``H_m = H_r1 (x) H_r2 (x) ...`` (Kronecker), so the transform along an axis
  of length ``m = r1 r2 ...`` is one small matrix product per factor, applied in place of
  the index digit it owns: no transposes, ``2 m (r1 + r2 + ...)`` FLOPs per column, and the
  scale folded into the matrices. See :func:`specdsl.library.lst.hadamard_radices`.
* **Fourier**. ``irfft(rfft(q) rfft(k) rfft(v))``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from specdsl.library.attention._shared import cached_tensors
from specdsl.library.fused import needs_grad
from specdsl.library.lst import hadamard_radices, padded_length

_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}


def complex_of(dtype: torch.dtype) -> torch.dtype:
    """The complex dtype matching a real floating dtype."""
    if dtype not in _COMPLEX:
        raise TypeError(f"spectral products support float32 and float64, got {dtype}")
    return _COMPLEX[dtype]


# -- projections with the tokens last -------------------------------------------------


def project_rows(weight: Tensor, bias: Tensor | None, x: Tensor) -> Tensor:
    """``x W^T + b`` of ``x`` ``(B, n, D_in)`` laid out ``(D_out, B, n)`` by one GEMM.

    Every output row is one contiguous block over all tokens, so any range of rows (a
    family of heads) is a contiguous tensor: batched FFTs and products need no copy.
    """
    tokens = x.reshape(-1, x.shape[-1]).mT  # (D_in, B n), a transposed operand: no copy
    weight = weight.to(x.dtype)
    rows = (
        weight @ tokens if bias is None else torch.addmm(bias.to(x.dtype)[:, None], weight, tokens)
    )
    return rows.view(-1, x.shape[0], x.shape[1])


def project_signed_rows(weight: Tensor, x: Tensor, start: int) -> Tensor:
    """:func:`project_rows` (no bias) of ``x`` with the tokens ``start:`` of every sequence
    negated, as DST heads need them in Makhoul order.

    Without autograd the sign goes into the weight: two batched products, ``W`` on the
    first tokens and ``-W`` on the others, each writing straight into its columns of the
    ``(D_out, B, n)`` output (no signed copy of ``x``).
    """
    weight = weight.to(x.dtype)
    if needs_grad(x, weight):
        signed = x.clone()  # autograd keeps nothing of a clone or an in-place negation
        signed[:, start:].neg_()
        return project_rows(weight, None, signed)
    rows = x.new_empty(weight.shape[0], x.shape[0], x.shape[1])
    per_sequence = rows.permute(1, 0, 2)  # (B, D_out, n) view
    torch.matmul(weight, x[:, :start].mT, out=per_sequence[..., :start])
    torch.matmul(-weight, x[:, start:].mT, out=per_sequence[..., start:])
    return rows


def project_out(acc: Tensor | None, bias: Tensor | None, y: Tensor, weight: Tensor) -> Tensor:
    """``acc + y W^T``, or ``y W^T + b`` to start, on token rows: ``y`` ``(B n, c)`` (the
    transpose of a :func:`project_rows` layout, no copy), ``W`` ``(D, c)``, ``acc``
    ``(B n, D)``; returns ``(B n, D)``."""
    if acc is not None:
        return torch.addmm(acc, y, weight.mT)
    return y @ weight.mT if bias is None else torch.addmm(bias, y, weight.mT)


# -- cosine ----------------------------------------------------------------------------


@cached_tensors()
def reorder_index(n: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """``(order, restore)``: ``x[order]`` is Makhoul's ``v``; ``v[restore]`` is ``x`` again."""
    i = torch.arange(n)
    restore = torch.where(i % 2 == 0, i // 2, n - 1 - i // 2)
    order = torch.empty_like(restore)
    order[restore] = i
    return order.to(device), restore.to(device)


@cached_tensors(maxsize=32)
def reorder_rows(batch: int, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """:func:`reorder_index` for the ``batch * n`` token rows of a ``(B n, D)`` view.

    ``index_select`` along dim 0 of a 2-D tensor copies whole rows as blocks: about twice
    as fast at ``(8, 8192, 256)`` as ``x.index_select(1, index)`` on ``(B, n, D)``.
    """
    order, restore = reorder_index(n, device)
    offsets = torch.arange(batch, device=device)[:, None] * n
    return (offsets + order).reshape(-1), (offsets + restore).reshape(-1)


def gather_tokens(x: Tensor, rows: Tensor) -> Tensor:
    """``x`` ``(B, n, ...)`` with its ``B n`` tokens taken at the flat ``rows`` (one of
    :func:`reorder_rows`' indices): one ``index_select`` of whole rows."""
    batch, n = x.shape[:2]
    return x.reshape(batch * n, -1).index_select(0, rows).view(x.shape)


@cached_tensors()
def cosine_twiddles(
    n: int, normalize: bool, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, Tensor]:
    """``(into, back)``, each ``(n // 2 + 1,)`` complex, for :func:`cosine_product`.

    With ``c_k`` the DCT-II output scale (``sqrt(1/4n)``, then ``sqrt(1/2n)`` when
    orthonormal, else 1), ``z_k = 2 c_k e^{-i pi k/2n} V_k``; the real factor ``2 c_k`` of
    each of the three spectra and the inverse's ``1 / (2 c_k)`` are folded into ``back``:
    ``into = e^{-i pi k/2n}``, ``back = 4 c_k^2 e^{+i pi k/2n}``.
    """
    k = torch.arange(n // 2 + 1, dtype=torch.float64)
    # tensor arithmetic on n (no math.sqrt) keeps n symbolic under torch.export
    squared = torch.where(k == 0, 0.25, 0.5).to(k.dtype) / n if normalize else torch.ones_like(k)
    angle = k * (math.pi / 2) / n
    into = torch.polar(torch.ones_like(k), -angle)
    back = torch.polar(4 * squared, angle)
    target = complex_of(dtype)
    return into.to(device=device, dtype=target), back.to(device=device, dtype=target)


@cached_tensors()
def makhoul_signs(n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``(-1)^i`` of the original positions, in Makhoul order: ``+1`` on the first
    ``ceil(n/2)`` entries (the even positions), ``-1`` after (the odd ones, reversed)."""
    signs = torch.where(torch.arange(n) < (n + 1) // 2, 1.0, -1.0)
    return signs.to(device=device, dtype=dtype)


def triple_product(stacked: Tensor, dim: int = 0) -> Tensor:
    """``a * b * c`` of the three slices of ``stacked`` along ``dim``, in two passes."""
    a, b, c = stacked.unbind(dim)
    return (a * b).mul_(c)


@cached_tensors()
def signed_spectrum(n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``rfft(s) e^{-i pi k / 2n}`` with ``s`` the DST signs (:func:`makhoul_signs`): the
    twiddled spectrum of a constant 1 added to the input of a DST head, ``(n // 2 + 1,)``."""
    into, _ = cosine_twiddles(n, True, dtype, device)  # ``into`` is the same either way
    return torch.fft.rfft(makhoul_signs(n, dtype, device)) * into


def twiddled_spectra(
    spectra: Tensor, n: int, into: Tensor, constant: Tensor | None, dst_from: int
) -> Tensor:
    """``rfft(z + c) e^{-i pi k / 2n}`` from ``spectra = rfft(z)`` ``(3, h, d, ..., bins)``.

    ``constant`` ``(3, h, d, 1, 1)`` (optional) is a value ``c`` added to every position
    of a head's input (its projection bias), carrying the ``(-1)^i`` signs on the DST heads
    ``dst_from:``. On DCT heads it lands in the DC bin only (the ``rfft`` of a constant is
    ``n c`` there, zero elsewhere, and the twiddle of that bin is 1); on DST heads it is
    ``c`` times :func:`signed_spectrum`, added by the twiddle's own pass (``addcmul``).
    Either way the projection is spared filling its output with the bias first. In place.
    """
    if constant is None:
        return spectra.mul_(into)
    cosine, signed = spectra[:, :dst_from], spectra[:, dst_from:]
    if dst_from:
        cosine[..., 0].add_(constant[:, :dst_from, ..., 0], alpha=n)
        cosine.mul_(into)
    if signed.shape[1]:
        term = constant[:, dst_from:] * signed_spectrum(n, constant.dtype, constant.device)
        if needs_grad(spectra, term):
            signed.copy_(torch.addcmul(term, signed, into))  # autograd takes no ``out=``
        else:
            torch.addcmul(term, signed, into, out=signed)
    return spectra


def cosine_product(
    z: Tensor, normalize: bool, constant: Tensor | None = None, dst_from: int | None = None
) -> Tensor:
    """``IDCT(DCT q * DCT k * DCT v)`` of ``z`` ``(3, h, d, ..., n)`` in Makhoul order.

    DST heads are DCT heads on signed inputs (``z`` carries the signs already). With a
    ``constant`` (heads ``dst_from:`` signed, default none), the product is that of
    ``z + constant`` (:func:`twiddled_spectra`). Returns ``(h, d, ..., n)``, still in
    Makhoul order (``[..., restore]`` gives positions).
    """
    n = z.shape[-1]
    into, back = cosine_twiddles(n, normalize, z.dtype, z.device)
    heads = z.shape[1]
    spectra = twiddled_spectra(
        torch.fft.rfft(z, dim=-1), n, into, constant, heads if dst_from is None else dst_from
    )
    product = torch.view_as_complex(triple_product(torch.view_as_real(spectra)))
    return torch.fft.irfft(product.mul_(back), n=n, dim=-1)


# -- Fourier ---------------------------------------------------------------------------


def fourier_product(z: Tensor, normalize: bool) -> Tensor:
    """``irfft(rfft q * rfft k * rfft v)`` of ``z`` ``(3, ..., n)``; returns ``(..., n)``."""
    n = z.shape[-1]
    norm = "ortho" if normalize else "backward"
    spectra = torch.fft.rfft(z, dim=-1, norm=norm)
    return torch.fft.irfft(triple_product(spectra), n=n, dim=-1, norm=norm)


# -- Hadamard --------------------------------------------------------------------------


@cached_tensors()
def hadamard_matrix(r: int, scale: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``scale * H_r`` (Sylvester order): ``H[i, j] = (-1)^popcount(i & j)``."""
    both = torch.arange(r)[:, None] & torch.arange(r)[None, :]
    parity = torch.zeros_like(both)
    for bit in range(max(r.bit_length() - 1, 0)):  # log2(r) bits of a constant, once
        parity ^= (both >> bit) & 1
    return ((1 - 2 * parity).to(torch.float64) * scale).to(device=device, dtype=dtype)


def hadamard_along(x: Tensor, dim: int, scale: float) -> Tensor:
    """``scale * H_m`` applied along ``dim`` of ``x`` (length ``m``, a power of two).

    One matrix product per Kronecker factor (:func:`hadamard_radices`), each on the index
    digit it owns, so ``x`` is never transposed.
    """
    shape = x.shape
    m = shape[dim]
    inner = math.prod(shape[dim + 1 :])
    lead, rest = math.prod(shape[:dim]), m
    for stage, r in enumerate(hadamard_radices(m)):
        h = hadamard_matrix(r, scale if stage == 0 else 1.0, x.dtype, x.device)
        rest //= r
        if rest * inner == 1:  # the last digit is innermost: a plain (rows, r) @ H product
            x = x.reshape(lead, r) @ h
        else:
            x = torch.matmul(h, x.reshape(lead, r, rest * inner))
        lead *= r
    if m == 1:
        x = x * scale
    return x.reshape(shape)


def hadamard_product(
    z: Tensor, seq_dim: int, stack_dim: int, normalize: bool, constant: Tensor | None = None
) -> Tensor:
    """Walsh-Hadamard ``H^-1(H q * H k * H v)`` along ``seq_dim`` of ``z``.

    q, k and v are stacked along ``stack_dim``; the sequence (length
    ``n``) is zero-padded to ``m = next_pow2(n)`` and the output cropped back. Returns
    ``z``'s shape without ``stack_dim``. Orthonormal: ``H / sqrt(m)`` both ways; else ``H``
    then ``H / m``. With a ``constant`` (``z``'s shape, length 1 along ``seq_dim``;
    ``n = m`` only), the product is that of ``z + constant``: row 0 of ``H`` is all ones
    and every other row sums to 0, so the constant lands in coefficient 0 alone.
    """
    n = z.shape[seq_dim]
    m = padded_length("hadamard", n)
    if m != n:
        z = F.pad(z, [0, 0] * (z.dim() - 1 - seq_dim) + [0, m - n])
    forward, inverse = (m**-0.5, m**-0.5) if normalize else (1.0, 1.0 / m)
    spectra = hadamard_along(z, seq_dim, forward)
    if constant is not None:
        if m != n:
            raise ValueError("a constant folds into the Walsh-Hadamard spectra only when n = m")
        spectra.select(seq_dim, 0).add_(constant.select(seq_dim, 0), alpha=m * forward)
    seq_dim -= stack_dim < seq_dim  # where the sequence is once the stack is gone
    y = hadamard_along(triple_product(spectra, stack_dim), seq_dim, inverse)
    return y.narrow(seq_dim, 0, n) if m != n else y


__all__ = [
    "complex_of",
    "cosine_product",
    "cosine_twiddles",
    "fourier_product",
    "gather_tokens",
    "hadamard_along",
    "hadamard_matrix",
    "hadamard_product",
    "makhoul_signs",
    "project_out",
    "project_rows",
    "project_signed_rows",
    "reorder_index",
    "reorder_rows",
    "signed_spectrum",
    "triple_product",
    "twiddled_spectra",
]
