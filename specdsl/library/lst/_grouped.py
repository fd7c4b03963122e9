"""The non-causal LST layer, one head group (transform kind) at a time, each in its layout.

A group's q, k and v come from the rows of the fused projection that belong to its heads,
and its output goes through the matching columns of ``W_o``; the partial outputs add up
to the fused layer exactly (same FLOPs, split into at most three products). That lets
every group use the layout its transform wants, with every reordering on the token axis
of a ``(B, n, D)`` tensor (a cheap row gather), never on a strided last axis:

* ``dct`` / ``dst``: the tokens are put in Makhoul order once, before the projection,
  shared by both kinds, and the summed partial outputs restored once at the end. A DST
  group folds its ``(-1)^i`` into the tokens and the bias: ``W (s x) + s b = s (W x + b)``;
* ``fft``: sequence-last projections, ``irfft(rfft q rfft k rfft v)``;
* ``hadamard``: projections as they come, ``(B, n, 3 c)``, the transform along the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from specdsl.library.lst._fast import (
    cosine_product,
    fourier_product,
    hadamard_product,
    makhoul_signs,
    project_seq_last,
    reorder_index,
)

if TYPE_CHECKING:
    from specdsl.library.lst.modules import SpectralProductAttention

COSINE = ("dct", "dst")


@dataclass(frozen=True)
class KindGroup:
    """Heads ``start:stop`` all use the transform ``kind``."""

    kind: str
    start: int
    stop: int


def kind_groups(groups: list[tuple[str, int]]) -> tuple[KindGroup, ...]:
    """``[(kind, count), ...]`` as head ranges, cosine kinds first (they share an order)."""
    ranges, start = [], 0
    for kind, count in groups:
        ranges.append(KindGroup(kind, start, start + count))
        start += count
    return tuple(sorted(ranges, key=lambda group: group.kind not in COSINE))


@dataclass
class _Inputs:
    """Tokens (natural or Makhoul order) and the key mask as a multiplier."""

    x: Tensor
    keep: Tensor | None


def grouped_forward(layer: SpectralProductAttention, x: Tensor, mask: Tensor | None) -> Tensor:
    """``W_o (T^-1(T q * T k * T v) * scale) + b`` of ``x`` ``(B, n, D)``, group by group.

    ``layer`` is a :class:`~specdsl.library.lst.modules.SpectralProductAttention`.
    """
    n = x.shape[1]
    keep = None if mask is None else mask.to(x.dtype)
    weight, bias = layer.output_weights(x.dtype)
    natural, makhoul = _Inputs(x, keep), None
    restore = None
    cosine_out = other_out = None
    for group in layer.kind_groups:  # at most three transform kinds
        if group.kind in COSINE and makhoul is None:
            order, restore = reorder_index(n, x.device)
            makhoul = _Inputs(
                x.index_select(1, order), None if keep is None else keep.index_select(1, order)
            )
        inputs = makhoul if group.kind in COSINE else natural
        columns = slice(group.start * layer.head_dim, group.stop * layer.head_dim)
        w_out = weight[:, columns]
        if group.kind in COSINE:
            y = _seq_last_group(layer, group, inputs)
            cosine_out = _accumulate(cosine_out, bias, y.mT, w_out)
            continue
        if restore is not None and other_out is None:
            other_out, bias = cosine_out.index_select(1, restore), None
        if group.kind == "hadamard":
            y = _hadamard_group(layer, group, inputs)
        else:
            y = _seq_last_group(layer, group, inputs).mT
        other_out = _accumulate(other_out, bias, y, w_out)
        bias = None
    if other_out is None:
        return cosine_out.index_select(1, restore)
    return other_out


def _accumulate(acc: Tensor | None, bias: Tensor | None, y: Tensor, w_out: Tensor) -> Tensor:
    """``acc + y W^T`` (or ``y W^T + bias`` to start): ``y`` ``(B, n, c)``, maybe strided."""
    w = w_out.mT.expand(y.shape[0], -1, -1)
    if acc is not None:
        return torch.baddbmm(acc, y, w)
    if bias is not None:
        return torch.baddbmm(bias, y, w)
    return torch.bmm(y, w)


def _rows(layer: SpectralProductAttention, group: KindGroup) -> tuple[Tensor, Tensor | None]:
    """The projection rows (q, k and v of the group's heads) and their bias."""
    h, d = layer.num_heads, layer.head_dim
    weight = layer.qkv.weight.view(3, h, d, -1)[:, group.start : group.stop]
    bias = layer.qkv.bias
    if bias is not None:
        bias = bias.view(3, h, d)[:, group.start : group.stop].reshape(-1)
    return weight.reshape(-1, weight.shape[-1]), bias


def _seq_last_group(layer: SpectralProductAttention, group: KindGroup, inputs: _Inputs) -> Tensor:
    """DCT, DST or FFT heads: ``(B, c, n)``, in the token order of ``inputs``."""
    x, keep = inputs.x, inputs.keep
    b, n, _ = x.shape
    weight, bias = _rows(layer, group)
    signs = makhoul_signs(n, x.dtype, x.device) if group.kind == "dst" else None
    if signs is not None:
        x = x * signs[:, None]
        bias = None if bias is None else bias.to(x.dtype)[:, None] * signs
    qkv = project_seq_last(weight, bias, x).view(b, 3, group.stop - group.start, -1, n)
    if keep is not None:
        qkv = qkv * keep[:, None, None, None, :]
    if group.kind == "fft":
        y = fourier_product(qkv, layer.normalize)
    else:
        y = cosine_product(qkv, layer.normalize)
    if signs is not None:
        y = y * signs
    return layer.output_dropout(y).view(b, -1, n)


def _hadamard_group(layer: SpectralProductAttention, group: KindGroup, inputs: _Inputs) -> Tensor:
    """Walsh-Hadamard heads along the tokens as projected: ``(B, n, c)``."""
    x, keep = inputs.x, inputs.keep
    b, n, _ = x.shape
    weight, bias = _rows(layer, group)
    qkv = F.linear(x, weight.to(x.dtype), None if bias is None else bias.to(x.dtype))
    if keep is not None:
        qkv = qkv * keep[:, :, None]
    y = hadamard_product(qkv.view(b, n, 3, -1), 1, 2, layer.normalize)
    return layer.output_dropout(y)


__all__ = ["COSINE", "KindGroup", "grouped_forward", "kind_groups"]
