"""Functional spectral transforms on any dimension of real ``torch`` tensors.

Every function here is built from differentiable torch operations, keeps the
input dtype (float32 in, float32 out; float64 in, float64 out), works for any
length ``>= 1`` and caches its constants (twiddles, indices, filters) per
``(length, dtype, device)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch

from . import _dwt, _hadamard, _mdct
from ._common import (
    along_dim,
    check_choice,
    check_int,
    check_norm,
    check_real_float,
    gather_last,
    is_pow2,
    normalize_dim,
    normalize_dims,
)
from ._dct import dct2_last, dct3_last, dst2_last, dst3_last

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
Details2D = tuple[Tensor, Tensor, Tensor]

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
        ``log2(m)`` vectorised butterfly stages: ``O(m log m)``.
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
    ``S_N = (1/sqrt 2) M_N diag(S_{N/2}, S_{N/2})`` (Pratt-Chen-Welch); see
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
    w = _mdct.mdct_window(block_size, window, x.dtype, x.device)
    frames = _mdct.frame_signal(x.movedim(d, -1), block_size)
    coeffs = _mdct.mdct_frames(frames * w, normalized)
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
    w = _mdct.mdct_window(2 * half, window, X.dtype, X.device)
    y = _mdct.imdct_frames(X.movedim((d - 1, d), (-2, -1)), normalized) * w
    return _mdct.overlap_add(y, length).movedim(-1, d - 1)


# ------------------------------------------------------------------ wavelets


def _check_levels(levels: int | None, lengths: Sequence[int], wavelet: str) -> int:
    deepest = min(_dwt.max_level(n, wavelet) for n in lengths)
    if levels is None:
        return deepest
    if isinstance(levels, bool) or not isinstance(levels, int) or not 0 <= levels <= deepest:
        shape = " x ".join(str(n) for n in lengths)
        raise ValueError(
            f"levels must be an integer in [0, {deepest}] (pywt.dwt_max_level) for input "
            f"size {shape} and wavelet {wavelet!r}, got {levels!r}"
        )
    return levels


def _check_wavelet_args(x: Tensor, wavelet: str, mode: str, name: str = "x") -> None:
    check_real_float(x, name)
    _dwt.check_wavelet(wavelet)
    _dwt.check_mode(mode)


def dwt(
    x: Tensor, wavelet: str = "db4", mode: str = "symmetric", dim: int = -1
) -> tuple[Tensor, Tensor]:
    """Single-level DWT along ``dim``, matching ``pywt.dwt(x, wavelet, mode, axis=dim)``.

    Returns
    -------
    (Tensor, Tensor)
        ``(cA, cD)``, each of length ``floor((n + F - 1) / 2)`` along ``dim``
        (``ceil(n / 2)`` for ``"periodization"``). ``O(n F)``.
    """
    _check_wavelet_args(x, wavelet, mode)
    d = normalize_dim(x, dim)
    a, c = _dwt.dwt_last(x.movedim(d, -1), wavelet, mode)
    return a.movedim(-1, d), c.movedim(-1, d)


def idwt(
    cA: Tensor, cD: Tensor, wavelet: str = "db4", mode: str = "symmetric", dim: int = -1
) -> Tensor:
    """Single-level inverse DWT along ``dim``, matching ``pywt.idwt``. ``O(n F)``."""
    _check_wavelet_args(cA, wavelet, mode, "cA")
    d = normalize_dim(cA, dim)
    return _dwt.idwt_last(cA.movedim(d, -1), cD.movedim(d, -1), wavelet, mode).movedim(-1, d)


def _fit_approx(a: Tensor, d: Tensor, dims: Sequence[int]) -> Tensor:
    """Drop the last sample of ``a`` along ``dims`` where it is one longer (as pywt)."""
    for k in dims:
        if a.shape[k] == d.shape[k] + 1:
            a = a.narrow(k, 0, d.shape[k])
        elif a.shape[k] != d.shape[k]:
            raise ValueError(
                f"coefficient shape mismatch: approximation {tuple(a.shape)} "
                f"vs detail {tuple(d.shape)}"
            )
    return a


def _crop(x: Tensor, dims: Sequence[int], sizes: Sequence[int] | None) -> Tensor:
    if sizes is None:
        return x
    for k, size in zip(dims, sizes, strict=True):
        if not isinstance(size, int) or not 1 <= size <= x.shape[k]:
            raise ValueError(f"output_len must be an integer in [1, {x.shape[k]}], got {size!r}")
        x = x.narrow(k, 0, size)
    return x


def wavedec(
    x: Tensor,
    wavelet: str = "db4",
    mode: str = "symmetric",
    levels: int | None = None,
    dim: int = -1,
) -> tuple[Tensor, list[Tensor]]:
    """Multilevel DWT, matching ``pywt.wavedec(x, wavelet, mode, level=levels, axis=dim)``.

    Returns
    -------
    (Tensor, list of Tensor)
        ``(cA_J, [cD_J, ..., cD_1])``: coarsest detail first, as pywt.
        ``levels=None`` uses ``pywt.dwt_max_level``; deeper levels raise
        ``ValueError``. ``O(n F)`` in total.
    """
    _check_wavelet_args(x, wavelet, mode)
    d = normalize_dim(x, dim)
    levels = _check_levels(levels, [x.shape[d]], wavelet)
    a = x.movedim(d, -1)
    details = []
    for _ in range(levels):
        a, c = _dwt.dwt_last(a, wavelet, mode)
        details.append(c.movedim(-1, d))
    return a.movedim(-1, d), details[::-1]


def waverec(
    coeffs: tuple[Tensor, Sequence[Tensor]],
    wavelet: str = "db4",
    mode: str = "symmetric",
    dim: int = -1,
    output_len: int | None = None,
) -> Tensor:
    """Inverse of :func:`wavedec`, matching ``pywt.waverec``; optionally cropped.

    Parameters
    ----------
    coeffs : (Tensor, sequence of Tensor)
        ``(cA_J, [cD_J, ..., cD_1])`` as returned by :func:`wavedec`.
    output_len : int, optional
        Crop the result to this length (pywt may return one extra sample for
        odd input lengths).
    """
    a, details = coeffs
    _check_wavelet_args(a, wavelet, mode, "cA")
    d = normalize_dim(a, dim)
    for c in details:
        a = idwt(_fit_approx(a, c, [d]), c, wavelet, mode, d)
    return _crop(a, [d], None if output_len is None else [output_len])


def _dwt2_last(x: Tensor, wavelet: str, mode: str) -> tuple[Tensor, Details2D]:
    lo, hi = _dwt.dwt_last(x, wavelet, mode)  # along the last dim
    both = torch.stack((lo, hi), -3).transpose(-1, -2)
    lo2, hi2 = (t.transpose(-1, -2) for t in _dwt.dwt_last(both, wavelet, mode))
    return lo2[..., 0, :, :], (hi2[..., 0, :, :], lo2[..., 1, :, :], hi2[..., 1, :, :])


def _idwt2_last(a: Tensor, details: Details2D, wavelet: str, mode: str) -> Tensor:
    ch, cv, cd = details
    approx = torch.stack((a, cv), -3).transpose(-1, -2)
    detail = torch.stack((ch, cd), -3).transpose(-1, -2)
    cols = _dwt.idwt_last(approx, detail, wavelet, mode).transpose(-1, -2)
    return _dwt.idwt_last(cols[..., 0, :, :], cols[..., 1, :, :], wavelet, mode)


def _to_last2(x: Tensor, dims: tuple[int, int]) -> Tensor:
    return x.movedim(dims, (-2, -1))


def _from_last2(x: Tensor, dims: tuple[int, int]) -> Tensor:
    return x.movedim((-2, -1), dims)


def dwt2(
    x: Tensor,
    wavelet: str = "db4",
    mode: str = "symmetric",
    dim: tuple[int, int] = (-2, -1),
) -> tuple[Tensor, Details2D]:
    """Single-level 2D DWT, matching ``pywt.dwt2(x, wavelet, mode, axes=dim)``.

    Returns ``(cA, (cH, cV, cD))``: ``cH`` is high-pass along ``dim[0]``,
    ``cV`` high-pass along ``dim[1]``, ``cD`` high-pass along both.
    """
    _check_wavelet_args(x, wavelet, mode)
    dims = normalize_dims(x, dim)
    a, det = _dwt2_last(_to_last2(x, dims), wavelet, mode)
    return _from_last2(a, dims), tuple(_from_last2(t, dims) for t in det)


def idwt2(
    coeffs: tuple[Tensor, Details2D],
    wavelet: str = "db4",
    mode: str = "symmetric",
    dim: tuple[int, int] = (-2, -1),
) -> Tensor:
    """Single-level inverse 2D DWT, matching ``pywt.idwt2``."""
    a, det = coeffs
    _check_wavelet_args(a, wavelet, mode, "cA")
    dims = normalize_dims(a, dim)
    last = tuple(_to_last2(t, dims) for t in det)
    return _from_last2(_idwt2_last(_to_last2(a, dims), last, wavelet, mode), dims)


def wavedec2(
    x: Tensor,
    wavelet: str = "db4",
    mode: str = "symmetric",
    levels: int | None = None,
    dim: tuple[int, int] = (-2, -1),
) -> tuple[Tensor, list[Details2D]]:
    """Multilevel 2D DWT, matching ``pywt.wavedec2(x, wavelet, mode, levels, axes=dim)``.

    Returns ``(cA_J, [(cH_J, cV_J, cD_J), ..., (cH_1, cV_1, cD_1)])``.
    """
    _check_wavelet_args(x, wavelet, mode)
    dims = normalize_dims(x, dim)
    levels = _check_levels(levels, [x.shape[k] for k in dims], wavelet)
    a = _to_last2(x, dims)
    details = []
    for _ in range(levels):
        a, det = _dwt2_last(a, wavelet, mode)
        details.append(tuple(_from_last2(t, dims) for t in det))
    return _from_last2(a, dims), details[::-1]


def waverec2(
    coeffs: tuple[Tensor, Sequence[Details2D]],
    wavelet: str = "db4",
    mode: str = "symmetric",
    dim: tuple[int, int] = (-2, -1),
    output_len: tuple[int, int] | None = None,
) -> Tensor:
    """Inverse of :func:`wavedec2`, matching ``pywt.waverec2``; optionally cropped
    to ``output_len = (size along dim[0], size along dim[1])``."""
    a, details = coeffs
    _check_wavelet_args(a, wavelet, mode, "cA")
    dims = normalize_dims(a, dim)
    for det in details:
        a = idwt2((_fit_approx(a, det[0], dims), det), wavelet, mode, dims)
    return _crop(a, dims, output_len)
