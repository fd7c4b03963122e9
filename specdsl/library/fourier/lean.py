"""Real FFTs that keep nothing for backward.

``torch.fft.rfft``'s autograd node saves its whole real input although its gradient only
needs the input's shape, so every layer built on it keeps one extra ``(B, N, D)`` tensor
alive until backward. :func:`rfftn` computes the same transform with a gradient that
needs nothing saved: the adjoint of a real-input FFT is an inverse real FFT with the
dual normalisation after halving the bins that stand for two (see :class:`_LeanRealFFT`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from specdsl.library.fourier.spectral import cached

#: The normalisation whose inverse transform is the adjoint of a forward one.
DUAL_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


@cached
def _halving(bins: int, n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``1/2`` on the bins ``1 .. n - bins`` an inverse real FFT counts twice, else 1."""
    weight = torch.ones(bins, dtype=dtype, device=device)
    weight[1 : n - bins + 1] = 0.5
    return weight


class _LeanRealFFT(torch.autograd.Function):
    """``torch.fft.rfftn(x, s, dim, norm)`` whose backward needs no saved tensor.

    ``rfftn`` is a real FFT over the last of ``dims`` (keeping its ``n // 2 + 1`` bins)
    and complex FFTs over the others. Its adjoint, for a gradient ``g`` on those bins, is
    the inverse complex FFTs and the inverse real FFT with the dual normalisation, where
    bins ``1 .. n - n//2 - 1`` of ``g`` are halved (an inverse real FFT adds each of them
    twice, as itself and as its conjugate mirror), then cropped to the input's sizes when
    ``s`` zero-padded it. The gradient is built from differentiable operations, so double
    backward works.
    """

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, dims: tuple[int, ...], sizes: tuple[int, ...], norm: str
    ) -> Tensor:
        ctx.dims, ctx.sizes, ctx.norm = dims, sizes, norm
        ctx.input_sizes = tuple(x.shape[d] for d in dims)
        return torch.fft.rfftn(x, s=sizes, dim=dims, norm=norm)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, None, None]:
        last = ctx.dims[-1]
        weight = _halving(grad.shape[last], ctx.sizes[-1], grad.real.dtype, grad.device)
        weight = weight.view(-1, *([1] * (grad.dim() - 1 - last)))
        out = torch.fft.irfftn(grad * weight, s=ctx.sizes, dim=ctx.dims, norm=DUAL_NORM[ctx.norm])
        for dim, size, padded in zip(ctx.dims, ctx.input_sizes, ctx.sizes, strict=True):
            if padded != size:
                out = out.narrow(dim, 0, size)
        return out, None, None, None


def rfftn(
    x: Tensor, dims: tuple[int, ...], norm: str, sizes: tuple[int, ...] | None = None
) -> Tensor:
    """``torch.fft.rfftn(x, s=sizes, dim=dims, norm=norm)`` keeping nothing for backward.

    Parameters
    ----------
    x : Tensor
        Real input.
    dims : tuple of int
        Dimensions to transform; the real FFT runs over the last of them.
    norm : {"ortho", "forward", "backward"}
        As ``torch.fft``.
    sizes : tuple of int, optional
        Transform lengths, each at least the input's size along its dimension (the input is
        zero-padded); default the input's sizes.

    Returns
    -------
    Tensor
        Complex, ``sizes[-1] // 2 + 1`` bins along ``dims[-1]``.
    """
    dims = tuple(d % x.dim() for d in dims)
    sizes = tuple(x.shape[d] for d in dims) if sizes is None else tuple(sizes)
    if any(s < x.shape[d] for d, s in zip(dims, sizes, strict=True)):
        raise ValueError(f"sizes {sizes} must not be shorter than the input along {dims}")
    return _LeanRealFFT.apply(x, dims, sizes, norm)


__all__ = ["DUAL_NORM", "rfftn"]
