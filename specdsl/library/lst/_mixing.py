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
column, in ``sqrt(n)``-row chunks under activation checkpointing so that memory stays
``O(n^1.5)`` per column.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from specdsl.library.attention._shared import cached_tensors
from specdsl.library.lst import causal_chunk, padded_length
from specdsl.library.lst._fast import hadamard_matrix
from specdsl.transforms import functional as T

FAMILY = {"dct": "cosine", "dst": "cosine", "hadamard": "hadamard", "fft": "fourier"}


@dataclass(frozen=True)
class HeadGroup:
    """Heads ``start:stop`` share one transform family; ``dst`` flags DST heads (cosine)."""

    family: str
    start: int
    stop: int
    dst: tuple[bool, ...]


def plan_groups(groups: list[tuple[str, int]]) -> tuple[HeadGroup, ...]:
    """Merge consecutive ``(kind, count)`` head groups of the same family."""
    merged: list[HeadGroup] = []
    start = 0
    for kind, count in groups:
        family, dst = FAMILY[kind], (kind == "dst",) * count
        if merged and merged[-1].family == family:
            last = merged.pop()
            merged.append(HeadGroup(family, last.start, start + count, last.dst + dst))
        else:
            merged.append(HeadGroup(family, start, start + count, dst))
        start += count
    return tuple(merged)


@cached_tensors()
def _modulation(dst: tuple[bool, ...], n: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``(h, 1, n)``: ``(-1)^i`` along the sequence for DST heads, 1 for DCT heads."""
    alternating = 1.0 - 2.0 * (torch.arange(n) % 2).to(torch.float64)
    signs = torch.where(torch.tensor(dst)[:, None], alternating, torch.ones(n, dtype=torch.float64))
    return signs[:, None, :].to(device=device, dtype=dtype)


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
        dtype = {torch.float64: torch.complex128, torch.float32: torch.complex64}.get(dtype, dtype)
    return forward.T.to(device=device, dtype=dtype), inverse.to(device=device, dtype=dtype)


def _causal_rows(
    x: Tensor, forward_t: Tensor, inverse: Tensor, carry: Tensor
) -> tuple[Tensor, Tensor]:
    """Output rows ``t0..t1`` of the prefix product, given the prefix sums before ``t0``.

    ``x`` is ``(3, ..., c)``, ``forward_t`` and ``inverse`` the ``(c, s)`` rows of ``T^T`` and
    ``G``, ``carry`` ``(3, ..., s)``: ``sum_{i < t0} T[f, i] x_i``.
    """
    prefix = (x.unsqueeze(-1) * forward_t).cumsum(dim=-2) + carry.unsqueeze(-2)
    q, k, v = prefix
    y = ((q * k) * (v * inverse)).sum(-1)
    return (y.real if y.is_complex() else y), prefix[..., -1, :]


def _causal_product(family: str, qkv: Tensor, normalize: bool) -> Tensor:
    """The prefix (causal) spectral product of one head group: ``O(n s)`` work per column.

    Rows are processed in chunks of ``c = ceil(sqrt(n))``, each under activation
    checkpointing, carrying the prefix sums from chunk to chunk: the memory kept for
    backward is ``3 s`` per column per chunk (``O(n^1.5)``) instead of ``O(n s)``, and the
    live working set is one chunk. The loop runs over ``n / c`` chunks, not positions.
    """
    n = qkv.shape[-1]
    forward_t, inverse = _operators(family, n, normalize, qkv.dtype, qkv.device)
    carry = qkv.new_zeros((*qkv.shape, forward_t.shape[-1]), dtype=forward_t.dtype)[..., 0, :]
    chunk = causal_chunk(n)
    rows = []
    for start in range(0, n, chunk):  # ceil(sqrt(n)) chunks
        stop = min(n, start + chunk)
        part = (qkv[..., start:stop], forward_t[start:stop], inverse[start:stop], carry)
        if torch.is_grad_enabled() and qkv.requires_grad:
            y, carry = checkpoint(_causal_rows, *part, use_reentrant=False)
        else:
            y, carry = _causal_rows(*part)
        rows.append(y)
    return torch.cat(rows, dim=-1)


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
        self.groups = plan_groups(groups)
        self.normalize = normalize

    def __call__(self, qkv: Tensor) -> Tensor:
        """Mix stacked ``qkv`` ``(3, B, H, d, n)`` causally; returns ``(B, H, d, n)``."""
        outputs = [self._group(group, qkv) for group in self.groups]  # <= 3 families
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)

    def _group(self, group: HeadGroup, qkv: Tensor) -> Tensor:
        if len(self.groups) > 1:
            qkv = qkv[:, :, group.start : group.stop]
        signs = None
        if any(group.dst):
            signs = _modulation(group.dst, qkv.shape[-1], qkv.dtype, qkv.device)
            qkv = qkv * signs
        y = _causal_product(group.family, qkv, self.normalize)
        return y if signs is None else y * signs
