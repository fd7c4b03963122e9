"""Output heads: pooling + projection for sequence-level tasks, per-token projections."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from specdsl.schema.spec import HeadSpec


def pool(x: Tensor, mask: Tensor | None, pooling: str) -> Tensor:
    """Pool ``(B, N, D)`` to ``(B, D)``; padded positions (mask False) are ignored."""
    if pooling == "cls":
        return x[:, 0]
    if mask is None:
        return x.mean(dim=1) if pooling == "mean" else x.amax(dim=1)
    keep = mask.unsqueeze(-1).to(torch.bool)
    if pooling == "mean":
        total = (x * keep.to(x.dtype)).sum(dim=1)
        return total / keep.sum(dim=1).clamp(min=1).to(x.dtype)
    return x.masked_fill(~keep, float("-inf")).amax(dim=1)


class PooledHead(nn.Module):
    """Classification or regression: pool the sequence, then ``Linear(D, C)``."""

    def __init__(self, hidden_dim: int, num_classes: int, pooling: str):
        super().__init__()
        self.pooling = pooling
        self.proj = nn.Linear(hidden_dim, num_classes)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.proj(pool(x, mask, self.pooling))


class TokenHead(nn.Module):
    """Per-token projection: sequence labelling ``(B, N, C)`` or LM logits ``(B, N, V)``."""

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
    if head.type in ("classification", "regression"):
        assert head.num_classes is not None  # validated by Spec
        return PooledHead(hidden_dim, head.num_classes, head.pooling)
    if head.type == "sequence":
        assert head.num_classes is not None
        return TokenHead(hidden_dim, head.num_classes)
    if head.type == "lm":
        assert vocab_size is not None
        return TokenHead(hidden_dim, vocab_size, bias=False)
    return IdentityHead()
