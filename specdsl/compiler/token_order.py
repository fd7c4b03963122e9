"""Token orders: keeping the hidden states permuted across blocks that work permuted.

A mixer may compute in a permuted order of the sequence: the LST cosine heads reorder their
tokens into Makhoul's order before the projection and back after the output projection
(:mod:`specdsl.library.lst._fast`). Everything else in a pre-norm block (norms, residual
adds, the feed-forward network, dropout) acts on each token alone, so a block whose mixer
is given its input already in that order returns its output in it too. Such a mixer
advertises the order (``token_order(n)``, a name of :data:`ORDERS`) and accepts
``token_order=`` in ``forward``; :func:`run_blocks` then permutes the hidden states once
when a run of blocks that share an order starts and once when it ends, instead of twice per
block. The values are those of the unpermuted model (the same operations on the same
numbers, in another memory order).

A block with forward hooks anywhere inside it keeps the natural order, so that a hook never
sees permuted tokens.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from specdsl.library.lst._fast import gather_tokens, reorder_rows

#: name -> ``(batch, n, device) -> (order, restore)`` flat row indices of a ``(B n, D)`` view.
ORDERS: dict[str, Callable[[int, int, torch.device], tuple[Tensor, Tensor]]] = {
    "makhoul": reorder_rows,
}


def block_order(block: nn.Module, n: int) -> str | None:
    """The order ``block`` would run in at length ``n`` (None: natural)."""
    advertised = getattr(block, "token_order", None)
    if advertised is None:
        return None
    order = advertised(n)
    if order is None or _hooked(block):
        return None
    return order


def _hooked(block: nn.Module) -> bool:
    return any(m._forward_hooks or m._forward_pre_hooks for m in block.modules())


def permute_tokens(
    x: Tensor, mask: Tensor | None, source: str | None, target: str | None
) -> tuple[Tensor, Tensor | None]:
    """``x`` ``(B, n, D)`` and its key ``mask`` ``(B, n)`` from order ``source`` to
    ``target`` (None: natural), one row gather per step."""
    for name, restoring in ((source, True), (target, False)):
        if name is None:
            continue
        order, restore = ORDERS[name](x.shape[0], x.shape[1], x.device)
        rows = restore if restoring else order
        x = gather_tokens(x, rows)
        mask = None if mask is None else gather_tokens(mask, rows)
    return x, mask


def run_blocks(blocks: nn.ModuleList, x: Tensor, mask: Tensor | None, checkpointed: bool) -> Tensor:
    """``x`` through every block in turn, permuted only where the order changes.

    Parameters
    ----------
    blocks : nn.ModuleList
        The model's blocks, each called as ``block(x, mask)``; a block with
        ``token_order(n)`` also as ``block(x, mask, token_order=name)``.
    x : Tensor
        Hidden states ``(B, n, D)`` in natural order.
    mask : Tensor, optional
        ``(B, n)`` bool key mask.
    checkpointed : bool
        Run each block under activation checkpointing.

    Returns
    -------
    Tensor
        ``(B, n, D)`` in natural order.
    """
    n = x.shape[1]
    current: str | None = None
    for block in blocks:
        wanted = block_order(block, n)
        if wanted != current:
            x, mask = permute_tokens(x, mask, current, wanted)
            current = wanted
        call = block if current is None else functools.partial(block, token_order=current)
        x = checkpoint(call, x, mask, use_reentrant=False) if checkpointed else call(x, mask)
    return permute_tokens(x, None, current, None)[0]


__all__ = ["ORDERS", "block_order", "permute_tokens", "run_blocks"]
