"""Output heads: pooling + projection for sequence-level tasks, per-token projections.

Pooled heads ignore padded positions (``mask`` False): ``mean`` averages real tokens,
``max`` takes the maximum over real tokens, ``cls`` takes the first real token (position
0 for right-padded batches). Masking uses ``where``/``masked_fill``, never a product, so
nothing a padded position holds (even ``inf`` or ``nan``) can reach the result.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from specdsl.schema.spec import HeadSpec

POOLINGS = ("cls", "mean", "max")


def pool(x: Tensor, mask: Tensor | None, pooling: str) -> Tensor:
    """Pool ``(B, N, D)`` to ``(B, D)``, ignoring padded positions.

    Parameters
    ----------
    x : Tensor
        Hidden states ``(B, N, D)``.
    mask : Tensor or None
        ``(B, N)``, True (or 1) for real tokens; None: every position is real.
    pooling : {"cls", "mean", "max"}
        ``cls``: the first real token; ``mean``/``max`` over real tokens. A row with no
        real token pools to zeros.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    if mask is None:
        if pooling == "cls":
            return x[:, 0]
        return x.mean(dim=1) if pooling == "mean" else x.amax(dim=1)
    keep = mask.to(torch.bool)
    if pooling == "cls":
        first = keep.to(torch.int8).argmax(dim=1)  # index of the first True (0 if none)
        pooled = x[torch.arange(x.shape[0], device=x.device), first]
    elif pooling == "mean":
        total = x.masked_fill(~keep.unsqueeze(-1), 0.0).sum(dim=1)
        pooled = total / keep.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
    else:
        pooled = x.masked_fill(~keep.unsqueeze(-1), float("-inf")).amax(dim=1)
    return torch.where(keep.any(dim=1, keepdim=True), pooled, torch.zeros_like(pooled))


class PooledHead(nn.Module):
    """Classification or regression: pool the sequence, then ``Linear(D, C)`` -> ``(B, C)``.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    num_classes : int
        Output size ``C``.
    pooling : {"cls", "mean", "max"}
        How the sequence is pooled (see :func:`pool`).
    """

    def __init__(self, hidden_dim: int, num_classes: int, pooling: str):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        self.pooling = pooling
        self.proj = nn.Linear(hidden_dim, num_classes)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.proj(pool(x, mask, self.pooling))


class TokenHead(nn.Module):
    """Per-token projection: sequence labelling ``(B, N, C)`` or LM logits ``(B, N, V)``.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    out_dim : int
        ``C`` classes or ``V`` vocabulary entries.
    bias : bool
        Add a bias (the LM head has none, so it can share the embedding matrix).
    """

    def __init__(self, hidden_dim: int, out_dim: int, bias: bool = True):
        super().__init__()
        self.proj = nn.Linear(hidden_dim, out_dim, bias=bias)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.proj(x)


class IdentityHead(nn.Module):
    """No head: the final hidden states ``(B, N, D)``."""

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return x


def build_head(head: HeadSpec, hidden_dim: int, vocab_size: int | None) -> nn.Module:
    """The output module of a validated head spec.

    Raises
    ------
    ValueError
        When the head needs ``num_classes`` or ``vocab_size`` and it is missing (a
        validated ``Spec`` never gets here without them).
    """
    if head.type == "none":
        return IdentityHead()
    if head.type == "lm":
        if vocab_size is None:
            raise ValueError("an lm head needs vocab_size")
        return TokenHead(hidden_dim, vocab_size, bias=False)
    if head.num_classes is None:
        raise ValueError(f"a {head.type} head needs num_classes")
    if head.type == "sequence":
        return TokenHead(hidden_dim, head.num_classes)
    return PooledHead(hidden_dim, head.num_classes, head.pooling)
