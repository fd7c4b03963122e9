"""Positional encodings (torch): added to embeddings, or applied inside attention scores."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from specdsl.library.attention._shared import cached_tensors


class SinusoidalPositional(nn.Module):
    """Fixed sine/cosine encodings (Vaswani et al. 2017) added to the embeddings."""

    table: Tensor  # a non-persistent buffer

    def __init__(self, hidden_dim: int, max_sequence_length: int):
        super().__init__()
        position = torch.arange(max_sequence_length, dtype=torch.float64)[:, None]
        rate = torch.exp(
            torch.arange(0, hidden_dim, 2, dtype=torch.float64) * (-math.log(1e4) / hidden_dim)
        )
        table = torch.zeros(max_sequence_length, hidden_dim, dtype=torch.float64)
        table[:, 0::2] = torch.sin(position * rate)
        table[:, 1::2] = torch.cos(position * rate[: hidden_dim // 2])
        self.register_buffer("table", table.float(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.table[: x.shape[-2]].to(x.dtype)


class LearnedPositional(nn.Module):
    """A learned embedding per position, added to the token embeddings."""

    def __init__(self, hidden_dim: int, max_sequence_length: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_sequence_length, hidden_dim) * 0.02)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.weight[: x.shape[-2]].to(x.dtype)


@cached_tensors()
def _rotary_table(
    n: int, dim: int, device: torch.device, dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    """Cosines and sines of ``position * 10000^(-2i/dim)``, shape ``(n, dim/2)``, cached."""
    inv_freq = 1.0 / (1e4 ** (torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim))
    angles = torch.arange(n, dtype=torch.float64, device=device)[:, None] * inv_freq
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: Tensor) -> Tensor:
    """Rotate ``(B, H, N, d)`` queries or keys by their position (RoPE, Su et al. 2021).

    Channel pairs ``(i, i + d/2)`` rotate by the angle ``position * 10000^(-2i/d)``; an odd
    last channel is left as is. Scores ``q_i . k_j`` then depend on ``i - j`` only.
    """
    n, dim = x.shape[-2], x.shape[-1]
    cos, sin = _rotary_table(n, dim - dim % 2, x.device, x.dtype)
    half = cos.shape[-1]
    first, second, rest = x[..., :half], x[..., half : 2 * half], x[..., 2 * half :]
    rotated = (first * cos - second * sin, first * sin + second * cos, rest)
    return torch.cat(rotated, dim=-1)


def alibi_slopes(heads: int) -> Tensor:
    """Per-head ALiBi slopes: the geometric sequence ``2^(-8 h / H)``, h = 1..H (float64)."""
    return torch.exp2(-8.0 * torch.arange(1, heads + 1, dtype=torch.float64) / heads)


@cached_tensors()
def alibi_bias(heads: int, n: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """ALiBi bias ``-slope_h * |i - j|`` of shape ``(H, n, n)`` (Press et al. 2022), cached."""
    position = torch.arange(n, dtype=torch.float64)
    distance = (position[:, None] - position[None, :]).abs()
    bias = -alibi_slopes(heads)[:, None, None] * distance
    return bias.to(device=device, dtype=dtype)
