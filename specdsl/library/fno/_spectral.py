"""Torch helpers of the FNO spectral convolutions: the truncated real DFT as two matrices and
the per-mode complex products on real/imaginary pairs.

Both keep autograd's saved tensors small: the DFT matrices are cached constants (a matrix
product with a constant saves only the constant), and the per-mode products multiply by
views of the weight parameter, so no weight-sized tensor is built (or kept) per forward.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from specdsl.library.fourier.spectral import cached


@cached
def truncated_dft(
    n: int, kept: int, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, Tensor]:
    """The first ``kept`` bins of ``rfft`` over ``n`` points and ``irfft`` from them.

    Returns
    -------
    analysis : Tensor
        ``(2 kept, n)``: rows ``k`` give ``Re rfft(x)[k]`` (``cos``), rows ``kept + k``
        give ``Im rfft(x)[k]`` (``-sin``).
    synthesis : Tensor
        ``(n, 2 kept)``: ``synthesis @ [Re; Im]`` equals ``irfft`` of those bins with
        every other bin zero (``n=n``, norm ``backward``): weight ``1/n`` on the DC and
        Nyquist bins, ``2/n`` on the others, whose imaginary parts it ignores.

    Angles use ``k t mod n`` (exact integers), sines of multiples of ``pi`` are exact
    zeros, and the matrices are built in float64 then cast to ``dtype``.
    """
    k = torch.arange(kept, dtype=torch.int64)[:, None]
    t = torch.arange(n, dtype=torch.int64)[None, :]
    turns = (k * t) % n
    phase = turns.to(torch.float64) * (2 * math.pi / n)
    cos = torch.cos(phase)
    sin = torch.where((2 * turns) % n == 0, 0.0, torch.sin(phase))
    analysis = torch.cat((cos, -sin))
    scale = torch.full((kept, 1), 2.0 / n, dtype=torch.float64)
    scale[(2 * k[:, 0]) % n == 0] = 1.0 / n  # DC and (even n) Nyquist
    synthesis = torch.cat((cos * scale, -sin * scale)).T
    return analysis.to(device, dtype), synthesis.contiguous().to(device, dtype)


def mode_product(pairs: Tensor, w_real: Tensor, w_imag: Tensor) -> tuple[Tensor, Tensor]:
    """Complex ``x_m @ W_m`` for every mode ``m`` as two real batched products.

    Parameters
    ----------
    pairs : Tensor
        ``(M, 2, B, C_in)``: real (index 0) and imaginary (index 1) parts of ``B`` rows per
        mode (any strides; one copy makes it ``(M, 2B, C_in)``).
    w_real, w_imag : Tensor
        ``(M, C_in, C_out)``: real and imaginary parts of the weights (views are not
        copied).

    Returns
    -------
    tuple of Tensor
        Real and imaginary parts ``(M, B, C_out)``:
        ``x_re W_re - x_im W_im`` and ``x_re W_im + x_im W_re``. The two products do
        ``8 M B C_in C_out`` FLOPs (:func:`specdsl.library.fourier.costs.pair_matmul_flops`
        per mode) and autograd keeps only the ``(M, 2B, C_in)`` copy of ``pairs``.
    """
    modes, _, rows, c_in = pairs.shape
    stacked = pairs.reshape(modes, 2 * rows, c_in)
    by_real = torch.bmm(stacked, w_real).unflatten(1, (2, rows))
    by_imag = torch.bmm(stacked, w_imag).unflatten(1, (2, rows))
    return by_real[:, 0] - by_imag[:, 1], by_imag[:, 0] + by_real[:, 1]


__all__ = ["mode_product", "truncated_dft"]
