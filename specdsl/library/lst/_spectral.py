"""DCT heads in inference: q, k and v projected in the DCT domain, from one transform of x.

The DCT along the sequence and the projection across channels commute:
``DCT(W x + b) = W DCT(x) + DCT(b 1)``, and the DCT of a constant is ``n b`` in the DC
coefficient alone (before the per-bin scale, which :func:`cosine_twiddles` folds into the
inverse). So a pass of DCT heads needs the spectrum of the ``D`` channels of ``x`` only,
not of the ``3 c`` channels of q, k and v: one real FFT of a third of the columns, one
twiddle instead of three, and the same projection FLOPs (``3 c x D`` per coefficient, ``n``
coefficients per sequence). The price is a transposition of ``x`` to channels-first, which
the time-domain path gets free from the projection's GEMM: at ``(8, 8192, 256)`` about
25 ms a layer is saved all the same (``benchmarks/README.md``).

Makhoul's half spectrum ``z`` (:mod:`specdsl.library.lst._fast`) holds the ``n`` DCT
coefficients as ``X_k = Re z_k`` and ``X_{n-k} = -Im z_k``; its ``view_as_real`` has
``2 (n // 2 + 1)`` numbers, two of them not coefficients (``Im z_0 = 0`` and, for even
``n``, ``Im z_{n/2} = -Re z_{n/2}``). Moving the last number into slot 1 leaves the ``n``
coefficients in the first ``n`` slots (for even ``n``, MKL's "Perm" packing), which is
what the projection multiplies. Only without autograd, without a key mask (padding zeroes
q, k and v in the time domain, which does not commute) and for passes of DCT heads alone;
every other case, training included, takes the time-domain path of
:mod:`specdsl.library.lst._grouped`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from specdsl.library.fourier.spectral import channels_first
from specdsl.library.fused import needs_grad
from specdsl.library.lst._fast import cosine_twiddles
from specdsl.library.lst._plan import Pass

if TYPE_CHECKING:
    from specdsl.library.lst.modules import SpectralProductAttention


def projects_in_spectra(
    plan: Pass, weight: Tensor, bias: Tensor | None, x: Tensor, keep: Tensor | None
) -> bool:
    """Whether the pass can project in the DCT domain: a Makhoul pass of DCT heads only, no
    key mask, at least two positions, nothing that autograd must differentiate, and not
    under ``torch.compile`` / ``torch.export`` (Dynamo fails on the packed views' in-place
    writes; the traced program takes the time-domain path)."""
    (family, *others) = plan.families
    if others or family.name != "cosine" or family.dst_start != family.stop:
        return False
    if keep is not None or x.shape[1] < 2 or not plan.makhoul:
        return False
    if torch.compiler.is_compiling():  # its in-place writes into views fail to trace
        return False
    return not needs_grad(x, weight, bias)


def packed_coefficients(spectrum: Tensor, n: int) -> Tensor:
    """The ``n`` DCT coefficients of a twiddled half spectrum ``(..., n // 2 + 1)``, as a
    real ``(..., n)`` view of it (the last number moved into slot 1, in place)."""
    numbers = torch.view_as_real(spectrum).flatten(-2)
    numbers[..., 1] = numbers[..., n]
    return numbers[..., :n]


def unpacked_product(q: Tensor, k: Tensor, v: Tensor, n: int) -> Tensor:
    """``q * k * v`` of packed coefficients ``(..., n)`` as the half spectrum
    ``(..., n // 2 + 1)`` complex that the inverse expects (``P = prod Re + i prod Im``)."""
    numbers = q.new_empty(*q.shape[:-1], 2 * (n // 2 + 1))
    inner = numbers[..., 2:n]
    torch.mul(q[..., 2:], k[..., 2:], out=inner).mul_(v[..., 2:])
    numbers[..., 0] = q[..., 0] * k[..., 0] * v[..., 0]
    numbers[..., 1] = 0.0  # Im z_0
    numbers[..., n] = q[..., 1] * k[..., 1] * v[..., 1]
    if n % 2 == 0:  # Im P_{n/2} = prod(-Re z_{n/2}) = -Re P_{n/2}
        torch.neg(numbers[..., n], out=numbers[..., n + 1])
    return torch.view_as_complex(numbers.unflatten(-1, (-1, 2)))


def dct_heads_in_spectra(
    layer: SpectralProductAttention, weight: Tensor, bias: Tensor | None, x: Tensor
) -> Tensor:
    """The mixed DCT heads of ``x`` ``(B, n, D)`` in Makhoul order: ``(c, B, n)``, the layout
    of the time-domain path. ``weight`` ``(3 c, D)`` and ``bias`` are the pass's q, k, v
    rows."""
    b, n, _ = x.shape
    into, back = cosine_twiddles(n, layer.normalize, x.dtype, x.device)
    spectrum = torch.fft.rfft(channels_first(x), dim=-1).mul_(into)  # (D, B, n // 2 + 1)
    coefficients = packed_coefficients(spectrum, n).permute(1, 0, 2)  # (B, D, n), strided
    qkv = x.new_empty(weight.shape[0], b, n)
    torch.matmul(weight.to(x.dtype), coefficients, out=qkv.permute(1, 0, 2))
    if bias is not None:  # the DCT of a constant: n b in the DC coefficient
        qkv[..., 0].add_(bias.to(x.dtype)[:, None], alpha=n)
    q, k, v = qkv.view(3, -1, b, n)
    return torch.fft.irfft(unpacked_product(q, k, v, n).mul_(back), n=n, dim=-1)


__all__ = ["dct_heads_in_spectra", "packed_coefficients", "projects_in_spectra", "unpacked_product"]
