"""Wavelet part of the functional API (re-exported by :mod:`.functional`).

All functions match PyWavelets (``pywt.dwt``, ``pywt.wavedec``, ...) exactly,
operate along any dimension(s) of batched tensors and are differentiable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import torch

from . import _dwt
from ._common import check_real_float, normalize_dim, normalize_dims

__all__ = ["dwt", "dwt2", "idwt", "idwt2", "wavedec", "wavedec2", "waverec", "waverec2"]

Tensor = torch.Tensor
Details2D = tuple[Tensor, Tensor, Tensor]


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


def _map_details(
    fn: Callable[[Tensor, tuple[int, int]], Tensor], det: Sequence[Tensor], dims: tuple[int, int]
) -> Details2D:
    """``fn(t, dims)`` on each detail band of ``det`` (``(cH, cV, cD)``: three in, three out)."""
    return cast(Details2D, tuple(fn(t, dims) for t in det))


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
    return _from_last2(a, dims), _map_details(_from_last2, det, dims)


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
    last = _map_details(_to_last2, det, dims)
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
    details: list[Details2D] = []
    for _ in range(levels):
        a, det = _dwt2_last(a, wavelet, mode)
        details.append(_map_details(_from_last2, det, dims))
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
