"""Functional spectral transforms on any dimension of real ``torch`` tensors.

Every function here is built from differentiable torch operations, keeps the
input dtype (float32 in, float32 out; float64 in, float64 out), works for any
length ``>= 1`` and caches its constants (twiddles, indices, filters) per
``(length, dtype, device)``.
"""

from __future__ import annotations

import functools
import math

import torch

from . import _hadamard, _mdct
from ._common import (
    along_dim,
    check_choice,
    check_int,
    check_norm,
    check_real_float,
    gather_last,
    is_pow2,
    normalize_dim,
)
from ._dct import dct2_last, dct3_last, dst2_last, dst3_last
from ._wavelet_api import dwt, dwt2, idwt, idwt2, wavedec, wavedec2, waverec, waverec2

__all__ = [
    "dct",
    "dst",
    "dwt",
    "dwt2",
    "fwht",
    "idct",
    "idst",
    "idwt",
    "idwt2",
    "ifwht",
    "imdct",
    "islant",
    "mdct",
    "sequency_order",
    "slant",
    "wavedec",
    "wavedec2",
    "waverec",
    "waverec2",
]

Tensor = torch.Tensor

# ----------------------------------------------------------------- DCT / DST


def _check_dct_type(type: int) -> None:
    check_choice(type, "type", (2,))


def dct(x: Tensor, dim: int = -1, norm: str | None = "ortho", type: int = 2) -> Tensor:
    """DCT-II along ``dim``, matching ``scipy.fft.dct(x, type=2, norm=norm)``.

    Parameters
    ----------
    x : Tensor
        Real floating-point input, any shape; the transformed length ``n >= 1``.
    dim : int
        Dimension to transform.
    norm : {"ortho", None}
        ``"ortho"`` gives the orthonormal DCT-II; ``None`` gives
        ``y[k] = 2 sum_n x[n] cos(pi k (2n + 1) / (2n))``.
    type : int
        Only ``2`` is supported (the inverse, type III, is :func:`idct`).

    Returns
    -------
    Tensor
        Same shape and dtype as ``x``.

    Notes
    -----
    Makhoul's algorithm: reorder (even samples, then odd samples reversed), one
    real FFT of length ``n`` and a twiddle multiply. ``O(n log n)``.
    """
    _check_dct_type(type)
    check_real_float(x)
    return along_dim(dct2_last, x, dim, check_norm(norm))


def idct(X: Tensor, dim: int = -1, norm: str | None = "ortho", type: int = 2) -> Tensor:
    """Inverse of :func:`dct` (a scaled DCT-III), as ``scipy.fft.idct(type=2, norm=norm)``.

    Parameters
    ----------
    X : Tensor
        Real DCT-II coefficients.
    dim, norm, type
        As in :func:`dct`; ``norm`` must match the forward call.

    Returns
    -------
    Tensor
        Same shape and dtype as ``X``. ``O(n log n)``.
    """
    _check_dct_type(type)
    check_real_float(X, "X")
    return along_dim(dct3_last, X, dim, check_norm(norm))


def dst(x: Tensor, dim: int = -1, norm: str | None = "ortho", type: int = 2) -> Tensor:
    """DST-II along ``dim``, matching ``scipy.fft.dst(x, type=2, norm=norm)``.

    Computed as ``dct(x * (-1)^n)`` reversed, so it shares the DCT's
    ``O(n log n)`` FFT path. Parameters and return value as in :func:`dct`.
    """
    _check_dct_type(type)
    check_real_float(x)
    return along_dim(dst2_last, x, dim, check_norm(norm))


def idst(X: Tensor, dim: int = -1, norm: str | None = "ortho", type: int = 2) -> Tensor:
    """Inverse of :func:`dst`, as ``scipy.fft.idst(type=2, norm=norm)``. ``O(n log n)``."""
    _check_dct_type(type)
    check_real_float(X, "X")
    return along_dim(dst3_last, X, dim, check_norm(norm))


# ------------------------------------------------------- Hadamard and slant

_ORDERS = ("natural", "sequency")


def sequency_order(n: int) -> Tensor:
    """Permutation putting Hadamard rows in sequency (Walsh) order.

    Parameters
    ----------
    n : int
        A power of two.

    Returns
    -------
    Tensor
        ``perm`` (int64, length ``n``) such that row ``s`` of
        ``scipy.linalg.hadamard(n)[perm]`` has exactly ``s`` sign changes;
        ``perm[s]`` is the bit-reversed Gray code of ``s``.
    """
    check_int(n, "n")
    if not is_pow2(n):
        raise ValueError(f"n must be a power of two (1, 2, 4, ...), got {n}")
    return torch.tensor(_hadamard.sequency_permutation(n), dtype=torch.long)


def _fwht_padded(x: Tensor, normalized: bool, order: str, inverse: bool) -> Tensor:
    m = x.shape[-1]
    scale = 1.0 / math.sqrt(m) if normalized else (1.0 / m if inverse else 1.0)
    if inverse and order == "sequency":
        x = gather_last(x, _hadamard.sequency_inverse_index(m, x.device))
    y = _hadamard.fwht_last(x, scale)
    if not inverse and order == "sequency":
        y = gather_last(y, _hadamard.sequency_index(m, x.device))
    return y


def _fwht(x: Tensor, dim: int, normalized: bool, pad: str, order: str, inverse: bool) -> Tensor:
    check_real_float(x)
    check_choice(order, "order", _ORDERS)
    kernel = functools.partial(_fwht_padded, normalized=normalized, order=order, inverse=inverse)
    return along_dim(_hadamard.pow2_apply, x, dim, kernel, pad)


def fwht(
    x: Tensor,
    dim: int = -1,
    normalized: bool = True,
    pad: str = "crop",
    order: str = "natural",
) -> Tensor:
    """Fast Walsh-Hadamard transform along ``dim``.

    Parameters
    ----------
    x : Tensor
        Real floating-point input.
    dim : int
        Dimension to transform.
    normalized : bool
        Scale by ``1/sqrt(m)`` (orthonormal); otherwise unscaled.
    pad : {"crop", "keep"}
        For a length ``n`` that is not a power of two the input is zero-padded
        to ``m = next_pow2(n)``; ``"crop"`` returns the first ``n`` outputs (not
        invertible), ``"keep"`` returns all ``m`` (invertible with :func:`ifwht`).
    order : {"natural", "sequency"}
        ``"natural"`` matches ``scipy.linalg.hadamard(m) @ x`` (Sylvester order);
        ``"sequency"`` permutes the outputs by :func:`sequency_order`.

    Returns
    -------
    Tensor
        ``O(m log m)``: ``ceil(log2(m) / 5)`` stages, each a batched matmul with a small
        Sylvester matrix (see ``docs/transforms.md``).
    """
    return _fwht(x, dim, normalized, pad, order, inverse=False)


def ifwht(
    X: Tensor,
    dim: int = -1,
    normalized: bool = True,
    pad: str = "crop",
    order: str = "natural",
) -> Tensor:
    """Inverse of :func:`fwht` for power-of-two lengths (and for ``pad="keep"`` output).

    For other lengths with ``pad="crop"`` it applies the same pad/transform/crop
    pipeline with the inverse matrix, which equals the adjoint (transpose) of
    the cropped forward operator, not its inverse.
    """
    return _fwht(X, dim, normalized, pad, order, inverse=True)


def slant(x: Tensor, dim: int = -1, pad: str = "crop") -> Tensor:
    """Orthonormal slant transform along ``dim`` in ``O(m log m)``.

    The slant matrix is defined by ``S_1 = [1]``, ``S_2 = H_2 / sqrt 2`` and
    ``S_N = (1/sqrt 2) M_N diag(S_{N/2}, S_{N/2})`` (Pratt-Chen-Welch) and applied
    as a fast Walsh-Hadamard transform plus ``O(m)`` sparse corrections; see
    ``docs/transforms.md``. Non-power-of-two lengths use the ``pad`` semantics of
    :func:`fwht`.
    """
    check_real_float(x)
    return along_dim(_hadamard.pow2_apply, x, dim, _hadamard.slant_last, pad)


def islant(X: Tensor, dim: int = -1, pad: str = "crop") -> Tensor:
    """Inverse (= transpose) of :func:`slant`; exact for power-of-two lengths."""
    check_real_float(X, "X")
    return along_dim(_hadamard.pow2_apply, X, dim, _hadamard.islant_last, pad)


# ---------------------------------------------------------------------- MDCT


def check_block_size(block_size: int) -> int:
    """Validate an MDCT ``block_size`` (even, ``>= 2``)."""
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
        raise ValueError(f"block_size must be an even integer >= 2, got {block_size!r}")
    if block_size % 2:
        raise ValueError(f"block_size must be an even integer >= 2, got {block_size}")
    return block_size


def mdct(
    x: Tensor,
    block_size: int,
    dim: int = -1,
    window: str = "sine",
    normalized: bool = False,
) -> Tensor:
    """Windowed MDCT of a signal: 50%-overlapping frames of ``block_size = 2N`` samples.

    Parameters
    ----------
    x : Tensor
        Real signal; the length ``L >= 1`` along ``dim`` is arbitrary.
    block_size : int
        Frame length ``2N`` (even, ``>= 2``); hop and coefficients per frame ``N``.
    dim : int
        Signal dimension.
    window : {"sine", "vorbis", "kbd"}
        Princen-Bradley window (``kbd`` uses ``alpha = 4``).
    normalized : bool
        ``False``: ``X_k = sum_n x_n w_n cos(pi/N (n + 1/2 + N/2)(k + 1/2))``.
        ``True``: the same times ``sqrt(2/N)``, making the lapped transform
        orthogonal (Parseval holds).

    Returns
    -------
    Tensor
        ``dim`` is replaced by two dims ``(F, N)`` with ``F = ceil(L/N) + 1``
        frames: the signal is padded with ``N`` zeros in front and zeros at the
        end up to ``(F + 1) N`` samples. ``O(L log N)``.
    """
    check_real_float(x)
    check_block_size(block_size)
    check_choice(window, "window", _mdct.WINDOWS)
    d = normalize_dim(x, dim)
    signal = x.movedim(d, -1)
    coeffs = _mdct.mdct_signal(signal.reshape(-1, signal.shape[-1]), block_size, window, normalized)
    coeffs = coeffs.reshape(*signal.shape[:-1], *coeffs.shape[-2:])
    return coeffs.movedim((-2, -1), (d, d + 1))


def imdct(
    X: Tensor,
    dim: int = -1,
    length: int | None = None,
    window: str = "sine",
    normalized: bool = False,
) -> Tensor:
    """Inverse of :func:`mdct` by windowed IMDCT and overlap-add (TDAC).

    Parameters
    ----------
    X : Tensor
        Coefficients with ``N`` along ``dim`` and frames along ``dim - 1``.
    dim : int
        Coefficient dimension (not the first dimension).
    length : int, optional
        Signal length ``L`` to return; default ``(F - 1) N``, the longest
        signal those frames can describe.
    window, normalized
        Must match the forward call. Unnormalised inverse:
        ``y_n = (2/N) sum_k X_k cos(pi/N (n + 1/2 + N/2)(k + 1/2))``.

    Returns
    -------
    Tensor
        The two dims ``(F, N)`` merged into one signal dim of ``length``.
    """
    check_real_float(X, "X")
    check_choice(window, "window", _mdct.WINDOWS)
    d = normalize_dim(X, dim)
    if d == 0:
        raise ValueError("imdct needs a frame dimension before dim; got dim=0")
    frames, half = X.shape[d - 1], X.shape[d]
    max_length = (frames - 1) * half
    length = max_length if length is None else length
    if not isinstance(length, int) or not 1 <= length <= max_length:
        raise ValueError(f"length must be an integer in [1, {max_length}], got {length!r}")
    coeffs = X.movedim((d - 1, d), (-2, -1))
    lead = coeffs.shape[:-2]
    y = _mdct.imdct_signal(coeffs.reshape(-1, frames, half), length, window, normalized)
    return y.reshape(*lead, length).movedim(-1, d - 1)
