"""Linear spectral transform (LST) attention: torch module."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.library.lst import LSTAttentionConfig, padded_length
from specdsl.transforms import functional as T

_KINDS = ("dct", "dst", "hadamard")


def _forward(kind: str, x: Tensor, normalize: bool) -> Tensor:
    norm = "ortho" if normalize else None
    if kind == "dct":
        return T.dct(x, dim=-2, norm=norm)
    if kind == "dst":
        return T.dst(x, dim=-2, norm=norm)
    return T.fwht(x, dim=-2, normalized=normalize)


def _inverse(kind: str, x: Tensor, normalize: bool) -> Tensor:
    norm = "ortho" if normalize else None
    if kind == "dct":
        return T.idct(x, dim=-2, norm=norm)
    if kind == "dst":
        return T.idst(x, dim=-2, norm=norm)
    scale = 1.0 if normalize else 1.0 / x.shape[-2]
    return T.fwht(x, dim=-2, normalized=normalize) * scale


class LSTAttention(nn.Module):
    """LST attention: ``W_o T^-1(T(q) * T(k) * T(v) * scale)`` per head.

    ``T`` runs along the sequence. Hadamard heads zero-pad the sequence to the next
    power of two, mix there, and crop back, so the transform pair stays exact.
    "mixed" assigns DCT, DST and Hadamard to heads in turn.
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 8,
        transform_type: str = "dct",
        learnable_scale: bool = True,
        normalize: bool = True,
        dropout: float = 0.0,
        use_bias: bool = True,
    ):
        super().__init__()
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads})")
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.head_dim = hidden_dim // num_heads
        self.transform_type = transform_type
        self.normalize = normalize
        self.qkv = nn.Linear(hidden_dim, 3 * hidden_dim, bias=use_bias)
        self.out_proj = nn.Linear(hidden_dim, hidden_dim, bias=use_bias)
        self.dropout = nn.Dropout(dropout)
        self.scale = nn.Parameter(torch.ones(num_heads, 1, self.head_dim)) if learnable_scale else None
        kinds = _KINDS if transform_type == "mixed" else (transform_type,)
        head_kind = [kinds[h % len(kinds)] for h in range(num_heads)]
        self.groups = {k: [h for h, hk in enumerate(head_kind) if hk == k] for k in kinds}

    @classmethod
    def from_config(cls, config: LSTAttentionConfig) -> LSTAttention:
        return cls(**config.model_dump())

    def _mix(self, kind: str, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        n = q.shape[-2]
        m = padded_length(kind, n)
        if m != n:
            q, k, v = (F.pad(t, (0, 0, 0, m - n)) for t in (q, k, v))
        product = _forward(kind, q, self.normalize) * _forward(kind, k, self.normalize)
        product = product * _forward(kind, v, self.normalize)
        return _inverse(kind, product, self.normalize)[..., :n, :]

    def forward(
        self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, None]:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if self.scale is not None:
            v = v * self.scale
        if len(self.groups) == 1:
            (kind,) = self.groups
            mixed = self._mix(kind, q, k, v)
        else:
            mixed = torch.empty_like(v)
            for kind, heads in self.groups.items():  # at most three transform kinds
                index = torch.tensor(heads, device=x.device)
                mixed[:, index] = self._mix(kind, q[:, index], k[:, index], v[:, index])
        out = self.out_proj(self.dropout(mixed.transpose(1, 2).reshape(b, n, self.hidden_dim)))
        return (out, None) if return_attention else out


__all__ = ["LSTAttention"]
