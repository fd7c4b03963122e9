"""The non-causal LST layer, pass by pass (the plan: :mod:`specdsl.library.lst._plan`).

A pass is one projection GEMM with the sequence last (its weight rows family-major, so each
family's q, k, v are one contiguous block), one batched transform per family, and one
output GEMM over the concatenated heads; the partial outputs of the passes add up to the
layer exactly (same FLOPs as the fused projections). A DST head is a DCT head with its
inputs and output multiplied by ``(-1)^i``: on the projected q, k, v that is
``W (s x) + s b = s (W x + b)``, applied in place before any transform keeps them, or on the
tokens themselves when every head of the pass is a DST head (``D`` numbers per token
instead of ``3 c``). Without a key mask the projection bias is added in the spectra
(:func:`_takes_constant`), so the projection is a bare product.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from specdsl.library.fused import needs_grad
from specdsl.library.lst import padded_length
from specdsl.library.lst._fast import (
    cosine_product,
    fourier_product,
    gather_tokens,
    hadamard_product,
    makhoul_signs,
    project_out,
    project_rows,
    project_signed_rows,
    reorder_rows,
)
from specdsl.library.lst._plan import Family, Pass, plan_passes
from specdsl.library.lst._spectral import dct_heads_in_spectra, projects_in_spectra

if TYPE_CHECKING:
    from specdsl.library.lst.modules import SpectralProductAttention


def grouped_forward(
    layer: SpectralProductAttention, x: Tensor, mask: Tensor | None, ordered: bool = False
) -> Tensor:
    """``W_o (T^-1(T q * T k * T v) * scale) + b`` of ``x`` ``(B, n, D)``, pass by pass.

    ``layer`` is a :class:`~specdsl.library.lst.modules.SpectralProductAttention`. With
    ``ordered``, ``x`` and ``mask`` are already in Makhoul order (the layer has a single
    Makhoul pass) and so is the output.
    """
    b, n, _ = x.shape
    keep = None if mask is None else mask.to(x.dtype)
    weight, bias = layer.output_weights(x.dtype)
    out = None
    for plan in plan_passes(layer.groups, n):  # at most two token orders
        inputs, kept, restore = x, keep, None
        if plan.makhoul and not ordered:
            order, restore = reorder_rows(b, n, x.device)
            inputs = gather_tokens(x, order)
            kept = None if keep is None else gather_tokens(keep, order)
        if [family.name for family in plan.families] == ["hadamard"]:
            y = _hadamard_pass(layer, plan, inputs, kept)  # (B n, c)
        else:
            y = _pass_heads(layer, plan, inputs, kept).reshape(-1, b * n).mT  # (B n, c)
        w_out = weight[:, plan.start * layer.head_dim : plan.stop * layer.head_dim]
        if restore is None:
            out = project_out(out, bias if out is None else None, y, w_out)
            continue
        part = project_out(None, bias if out is None else None, y, w_out)
        part = part.index_select(0, restore)
        out = part if out is None else out + part
    assert out is not None
    return out.view(b, n, -1)


def _pass_rows(layer: SpectralProductAttention, plan: Pass) -> tuple[Tensor, Tensor | None]:
    """The projection rows of the pass, family-major (q, k, v of each family together)."""
    h, d = layer.num_heads, layer.head_dim
    weight = layer.qkv.weight.view(3, h, d, -1)
    bias: Tensor | None = layer.qkv.bias
    ranges = [(family.start, family.stop) for family in plan.families]
    rows = [weight[:, a:b].reshape(-1, weight.shape[-1]) for a, b in ranges]
    if bias is not None:
        bias = torch.cat([bias.view(3, h, d)[:, a:b].reshape(-1) for a, b in ranges])
    return (rows[0] if len(rows) == 1 else torch.cat(rows)), bias


def _pass_heads(
    layer: SpectralProductAttention, plan: Pass, x: Tensor, keep: Tensor | None
) -> Tensor:
    """The mixed heads of one pass, ``(c, B, n)`` in the token order of ``x``."""
    b, n, _ = x.shape
    d = layer.head_dim
    weight, bias = _pass_rows(layer, plan)
    if projects_in_spectra(plan, weight, bias, x, keep):
        return layer.output_dropout(dct_heads_in_spectra(layer, weight, bias, x))
    fold = _bias_in_spectra(plan, n, bias, keep)
    signed_tokens = _signs_tokens(plan, unbiased=fold or bias is None)
    if signed_tokens:  # x in Makhoul order: its odd positions come last
        qkv = project_signed_rows(weight, x, (n + 1) // 2)
    else:
        qkv = project_rows(weight, None if fold else bias, x)
    # qkv (3 c, B, n): nothing keeps it yet
    if keep is not None:
        qkv.mul_(keep)
    blocks, offset = [], 0
    for family in plan.families:  # at most three, each one contiguous block
        size = 3 * family.heads * d
        blocks.append(qkv[offset : offset + size].view(3, family.heads, d, b, n))
        offset += size
    constants = [_bias_rows(layer, f, x.dtype) if fold else None for f in plan.families]
    signs = makhoul_signs(n, x.dtype, x.device)
    for family, z in zip(plan.families, blocks, strict=True):  # in place, before any product
        if family.dst_start < family.stop and not signed_tokens:
            z[:, family.dst_start - family.start :].mul_(signs)
    ys = [
        _family_product(layer, f, z, signs, c)
        for f, z, c in zip(plan.families, blocks, constants, strict=True)
    ]
    y = ys[0] if len(ys) == 1 else torch.cat(ys)
    return layer.output_dropout(y.view(-1, b, n))


def _hadamard_pass(
    layer: SpectralProductAttention, plan: Pass, x: Tensor, keep: Tensor | None
) -> Tensor:
    """A pass of Hadamard heads only, with the tokens as rows: ``(B n, c)``.

    Projected ``(B, n, 3 c)`` as they come, the transform runs along the tokens with every
    Kronecker factor a product over ``3 c`` columns at once: larger matrix products than
    along a last axis of length ``n`` (:func:`_pass_heads`' layout).
    """
    b, n, _ = x.shape
    (family,) = plan.families
    weight, bias = _pass_rows(layer, plan)
    fold = _bias_in_spectra(plan, n, bias, keep)
    qkv = F.linear(x, weight.to(x.dtype), None if bias is None or fold else bias.to(x.dtype))
    if keep is not None:  # in place: nothing keeps the projection yet
        qkv.mul_(keep[:, :, None])
    product = functools.partial(hadamard_product, seq_dim=1, stack_dim=2, normalize=layer.normalize)
    if fold:
        constant = _bias_rows(layer, family, x.dtype).reshape(1, 1, 3, -1)
        product = functools.partial(product, constant=constant)
    y = _checkpointed(product, qkv.view(b, n, 3, -1))
    return layer.output_dropout(y).reshape(b * n, -1)


def _checkpointed(product: Callable[[Tensor], Tensor], z: Tensor) -> Tensor:
    """``product(z)``; in training under activation checkpointing, so that backward keeps
    ``z`` only and recomputes the spectra (instead of keeping the three spectra and a
    partial product: ``8 (n // 2 + 1)`` or ``4 m`` numbers per column)."""
    if needs_grad(z):
        return checkpoint(product, z, use_reentrant=False, preserve_rng_state=False)
    return product(z)


def _takes_constant(family: Family, n: int) -> bool:
    """Whether the family's product can add the projection bias itself: DCT and DST heads
    (:func:`~specdsl.library.lst._fast.twiddled_spectra`), Walsh-Hadamard heads without
    padding (:func:`~specdsl.library.lst._fast.hadamard_product`)."""
    if family.name == "hadamard":
        return padded_length("hadamard", n) == n
    return family.name == "cosine"


def _bias_in_spectra(plan: Pass, n: int, bias: Tensor | None, keep: Tensor | None) -> bool:
    """Whether the pass adds its projection bias in the spectra rather than by the
    projection: there is one, no key mask (padding must zero it too), and every family's
    product can take it (:func:`_takes_constant`)."""
    return bias is not None and keep is None and all(_takes_constant(f, n) for f in plan.families)


def _signs_tokens(plan: Pass, unbiased: bool) -> bool:
    """Whether the pass puts the DST signs on its tokens (``D`` numbers each) instead of on
    q, k, v (``3 c``): all its heads are DST heads and its projection adds no bias (a bias
    must not be signed; folded into the spectra it carries its signs there)."""
    first, *others = plan.families
    return plan.makhoul and unbiased and not others and first.dst_start == first.start


def _bias_rows(layer: SpectralProductAttention, family: Family, dtype: torch.dtype) -> Tensor:
    """The family's q, k, v projection bias ``(3, h, d, 1, 1)``: a view of ``b_qkv``."""
    bias = layer.qkv.bias.view(3, layer.num_heads, layer.head_dim)[:, family.start : family.stop]
    return bias[..., None, None].to(dtype)


def _family_product(
    layer: SpectralProductAttention,
    family: Family,
    z: Tensor,
    signs: Tensor,
    constant: Tensor | None = None,
) -> Tensor:
    """``T^-1(T q * T k * T v)`` of one family's ``z`` ``(3, h, d, B, n)`` (plus
    ``constant``, see :func:`_takes_constant`): ``(h, d, B, n)``."""
    product = functools.partial(_PRODUCTS[family.name], normalize=layer.normalize)
    if constant is not None:
        product = functools.partial(product, constant=constant)
    if constant is not None and family.name == "cosine":
        product = functools.partial(product, dst_from=family.dst_start - family.start)
    y = _checkpointed(product, z)
    if family.dst_start < family.stop:
        y[family.dst_start - family.start :].mul_(signs)
    return y


def _hadamard(z: Tensor, normalize: bool, constant: Tensor | None = None) -> Tensor:
    return hadamard_product(z, 4, 0, normalize, constant)


_PRODUCTS = {"cosine": cosine_product, "fourier": fourier_product, "hadamard": _hadamard}


__all__ = ["grouped_forward"]
