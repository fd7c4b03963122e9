"""Softmax multi-head attention on ``scaled_dot_product_attention``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import register_flop_formula

from specdsl.library.attention import StandardAttentionConfig
from specdsl.library.positions import alibi_bias, apply_rotary

_aten = torch.ops.aten


@register_flop_formula(_aten._scaled_dot_product_flash_attention_for_cpu, get_raw=False)
def _sdpa_cpu_flops(query_shape, key_shape, value_shape, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    """Teach FlopCounterMode the CPU attention kernel: ``2 b h s_q s_k (d + d_v)``."""
    b, h, s_q, d = query_shape
    s_k, d_v = key_shape[-2], value_shape[-1]
    return 2 * b * h * s_q * s_k * (d + d_v)


def attention_mask(
    mask: Tensor | None, bias: Tensor | None, causal: bool, n: int, device: torch.device
) -> tuple[Tensor | None, bool]:
    """Combine a ``(B, N)`` keep-mask, an additive ``(H, N, N)`` bias and causality.

    Returns the ``attn_mask`` for SDPA and whether to pass ``is_causal``.
    """
    if mask is None and bias is None:
        return None, causal
    keep = None
    if mask is not None:
        keep = mask[:, None, None, :].bool()
    if causal:
        tril = torch.ones(n, n, dtype=torch.bool, device=device).tril()
        keep = tril if keep is None else keep & tril
    if bias is None:
        return keep, False
    if keep is None:
        return bias, False
    return bias.masked_fill(~keep, float("-inf")), False


class StandardAttention(nn.Module):
    """Multi-head softmax attention with a fused QKV projection.

    Parameters
    ----------
    hidden_dim : int
        Model width; must be divisible by ``num_heads``.
    num_heads : int
        Number of heads.
    dropout : float
        Dropout on the attention weights (training only).
    causal : bool
        Mask future positions.
    """

    def __init__(self, hidden_dim: int, num_heads: int = 8, dropout: float = 0.0, causal: bool = False):
        super().__init__()
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads})")
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.head_dim = hidden_dim // num_heads
        self.dropout = dropout
        self.causal = causal
        self.positional = "none"  # "rotary" or "alibi": set by the compiler
        self.qkv = nn.Linear(hidden_dim, 3 * hidden_dim)
        self.out_proj = nn.Linear(hidden_dim, hidden_dim)

    @classmethod
    def from_config(cls, config: StandardAttentionConfig) -> StandardAttention:
        return cls(**config.model_dump())

    def forward(
        self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor | None]:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if self.positional == "rotary":
            q, k = apply_rotary(q), apply_rotary(k)
        bias = None
        if self.positional == "alibi":
            bias = alibi_bias(self.num_heads, n, self.causal, x.device, q.dtype)
        attn_mask, is_causal = attention_mask(mask, bias, self.causal, n, x.device)
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=p, is_causal=is_causal)
        out = self.out_proj(out.transpose(1, 2).reshape(b, n, self.hidden_dim))
        if return_attention:
            return out, None  # weights are never materialised (fused kernel)
        return out


__all__ = ["StandardAttention"]
