"""Exactly causal long convolution in ``O(n log^2 n)``.

A plain FFT convolution (zero-padded to ``2n``) is causal in exact arithmetic only: its
round-off couples every output to every input (gradients of ``1e-16`` towards the
future), so ``specdsl.testing.assert_causal`` rejects it. Here no operation ever combines
an output with a later input:

* the sequence (zero-padded on the right to ``m = b 2^L``) is cut into blocks of ``b``
  samples; inside a block the output is a lower-triangular Toeplitz product (exact zeros
  above the diagonal);
* at stage ``l`` the padded sequence is cut into segments of ``2s`` (``s = b 2^l``); the
  contribution of each segment's left half to its right half (lags ``1 .. 2s-1``) is one
  FFT convolution of length ``2s`` that only reads the left half.

Every pair ``u < t`` in different blocks is handled by exactly one stage (the one where
they fall in the two halves of one segment), so the sum is the full causal convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from specdsl.library.fourier.costs import DENSE_BLOCK, DEPTHWISE_BLOCK, causal_plan
from specdsl.library.fourier.lean import rfftn
from specdsl.library.fourier.spectral import cached, complex_matmul


@cached
def _lags(b: int, device: torch.device) -> Tensor:
    """``t - u`` where ``t >= u``, else ``b``: rows of a ``b x b`` lower-triangular Toeplitz
    matrix read from a kernel whose row ``b`` is zero."""
    lag = torch.arange(b, device=device)[:, None] - torch.arange(b, device=device)[None, :]
    return torch.where(lag >= 0, lag, b)


def _toeplitz(kernel: Tensor, b: int) -> Tensor:
    """``T[t, u] = kernel[t - u]`` for ``t >= u``, else exactly 0: ``(b, b, *kernel.shape[1:])``.

    One gather from the first ``b`` lags with a zero row appended (autograd keeps only the
    cached index).
    """
    padded = F.pad(kernel[:b], (0, 0) * (kernel.dim() - 1) + (0, 1))
    return padded[_lags(b, kernel.device)]


def causal_conv(x: Tensor, kernel: Tensor) -> Tensor:
    """``y[t] = sum_{k=0}^{t} kernel[k] x[t - k]``, exactly causal.

    Parameters
    ----------
    x : Tensor
        ``(B, N, C_in)``.
    kernel : Tensor
        ``(K, C_in)``: one kernel per channel (lags ``0 .. K-1``), or ``(K, C_in, C_out)``:
        a channel-mixing kernel, ``y[t, o] = sum_{k, i} kernel[k, i, o] x[t - k, i]``.

    Returns
    -------
    Tensor
        ``(B, N, C_in)`` or ``(B, N, C_out)``, dtype of ``x`` (the kernel is cast to it).
    """
    batch, n, c_in = x.shape
    dense = kernel.dim() == 3
    b, m, levels = causal_plan(n, DENSE_BLOCK if dense else DEPTHWISE_BLOCK)
    kernel = kernel.to(x.dtype)[:n]
    kernel = F.pad(kernel, (0, 0) * (kernel.dim() - 1) + (0, m - kernel.shape[0]))
    x = F.pad(x, (0, 0, 0, m - n))
    blocks = x.view(batch, m // b, b, c_in)
    toeplitz = _toeplitz(kernel, b)
    if dense:
        y = torch.einsum("tuio,bjui->bjto", toeplitz, blocks)
    else:
        y = torch.einsum("tuc,bjuc->bjtc", toeplitz, blocks)
    c_out = y.shape[-1]
    y = y.reshape(batch, m, c_out)
    for level in range(levels):  # log2(m / b) doubling stages, each vectorised
        s = b << level
        pairs = m // (2 * s)
        left = x.view(batch, pairs, 2, s, c_in)[:, :, 0]
        spectrum = rfftn(left, (2,), "backward", (2 * s,))
        response = rfftn(kernel[: 2 * s], (0,), "backward", (2 * s,))
        if dense:
            product = complex_matmul("bpfi,fio->bpfo", spectrum, response.real, response.imag)
        else:
            product = spectrum * response
        right = torch.fft.irfft(product, n=2 * s, dim=2)[:, :, s:]
        y = y + torch.stack((torch.zeros_like(right), right), dim=2).reshape(batch, m, c_out)
    return y[:, :n]


__all__ = ["causal_conv"]
