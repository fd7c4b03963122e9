"""Torch helpers shared by the Fourier-type layers: cached constants, the real part of a
DFT from a real-input FFT, and complex matrix products on real/imaginary pairs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import Tensor

T = TypeVar("T")


def cached(fn: Callable[..., T]) -> Callable[..., T]:
    """Memoise a constant builder (index tensors, weights) on its hashable arguments.

    Constants are built outside inference mode so that autograd may save them later.
    """
    memo = functools.lru_cache(maxsize=256)(fn)

    @functools.wraps(fn)
    def wrapper(*key: object) -> T:
        if torch.compiler.is_compiling():
            return fn(*key)
        with torch.inference_mode(False):
            return memo(*key)

    return wrapper


@cached
def negated_index(n: int, device: torch.device) -> Tensor:
    """``(-k) mod n`` for ``k = 0..n-1``: the DFT bin of the opposite frequency."""
    return (-torch.arange(n, device=device)) % n


def real_dft(x: Tensor, dims: tuple[int, ...], norm: str) -> Tensor:
    """``Re(DFT(x))`` over ``dims`` of a real tensor, from one real-input FFT.

    ``rfftn`` transforms the last of ``dims`` with a real FFT (its ``n // 2 + 1``
    non-negative bins) and the others with complex FFTs; the missing bins follow from
    Hermitian symmetry, ``X[k_1, .., k_r, l] = conj(X[-k_1, .., -k_r, n - l])``, whose
    real part equals ``Re X[-k_1, .., -k_r, n - l]``: copied, not computed.

    Parameters
    ----------
    x : Tensor
        Real input.
    dims : tuple of int
        Non-negative dimensions to transform.
    norm : {"ortho", "forward", "backward"}
        DFT normalisation (as ``torch.fft``).

    Returns
    -------
    Tensor
        Real, same shape and dtype as ``x``; equals ``torch.fft.fftn(x, dim=dims).real``.
    """
    last = dims[-1]
    n = x.shape[last]
    real = torch.fft.rfftn(x, dim=dims, norm=norm).real
    missing = n - (n // 2 + 1)
    if missing == 0:
        return real.contiguous()
    mirror = real.narrow(last, 1, missing).flip(last)  # bins n - l for l = n//2+1 .. n-1
    for dim in dims[:-1]:
        mirror = mirror.index_select(dim, negated_index(x.shape[dim], x.device))
    return torch.cat((real, mirror), dim=last)


def pair_weight(real: Tensor, imag: Tensor) -> Tensor:
    """``[[W_re, W_im], [-W_im, W_re]]`` over the last two dims (``(.., 2 c_in, 2 c_out)``)."""
    top = torch.cat((real, imag), dim=-1)
    bottom = torch.cat((-imag, real), dim=-1)
    return torch.cat((top, bottom), dim=-2)


def pair_matmul(
    equation: str, x_real: Tensor, x_imag: Tensor, w_real: Tensor, w_imag: Tensor
) -> tuple[Tensor, Tensor]:
    """Complex ``einsum(equation, x, w)`` as one real ``einsum`` on real/imaginary pairs.

    ``x``'s last dim is the contracted one, ``w``'s last two are ``(c_in, c_out)`` and the
    output's last dim is ``c_out``. Computes ``[x_re, x_im] @ [[W_re, W_im], [-W_im, W_re]]
    = [x_re W_re - x_im W_im, x_re W_im + x_im W_re]``: ``8 rows c_in c_out`` FLOPs, all
    visible to ``FlopCounterMode``. Returns ``(real, imag)`` of the product.
    """
    x = torch.cat((x_real, x_imag), dim=-1)
    w = pair_weight(w_real.to(x.dtype), w_imag.to(x.dtype))
    return torch.einsum(equation, x, w).chunk(2, dim=-1)


def complex_matmul(equation: str, x: Tensor, w_real: Tensor, w_imag: Tensor) -> Tensor:
    """:func:`pair_matmul` for a complex ``x``; returns a complex tensor."""
    real, imag = pair_matmul(equation, x.real, x.imag, w_real, w_imag)
    return torch.complex(real, imag)


__all__ = [
    "cached",
    "complex_matmul",
    "negated_index",
    "pair_matmul",
    "pair_weight",
    "real_dft",
]
