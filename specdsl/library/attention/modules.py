"""Softmax multi-head attention on ``scaled_dot_product_attention``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.flop_counter import register_flop_formula

from specdsl.library.attention._shared import MultiHeadMixer, cached_tensors
from specdsl.library.positions import alibi_bias, apply_rotary

_aten = torch.ops.aten


@register_flop_formula(_aten._scaled_dot_product_flash_attention_for_cpu, get_raw=False)
def _sdpa_cpu_flops(query_shape, key_shape, value_shape, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    """Teach FlopCounterMode the CPU attention kernel: ``2 b h s_q s_k (d + d_v)``."""
    b, h, s_q, _ = query_shape
    s_k, d_v = key_shape[-2], value_shape[-1]
    return 2 * b * h * s_q * s_k * (query_shape[-1] + d_v)


@cached_tensors()
def _lower_triangle(n: int, device: torch.device) -> Tensor:
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def score_mask(
    mask: Tensor | None, bias: Tensor | None, causal: bool, n: int, device: torch.device
) -> tuple[Tensor | None, bool]:
    """Combine a ``(B, N)`` key mask, an additive ``(H, N, N)`` bias and causality.

    Returns the ``attn_mask`` for SDPA (bool keep-mask or additive float) and whether to
    pass ``is_causal`` instead. A padded query may look at every key, so that no row is
    empty (no NaN); padded keys never reach a real query.
    """
    keep = None
    if mask is not None:
        keep = mask[:, None, None, :] | ~mask[:, None, :, None]
    if causal and (keep is not None or bias is not None):
        tril = _lower_triangle(n, device)
        keep = tril if keep is None else keep & tril
    if bias is None:
        return keep, causal and keep is None
    if keep is None:
        return bias, False
    return bias.masked_fill(~keep, float("-inf")), False


class StandardAttention(MultiHeadMixer):
    """Multi-head softmax attention ``W_o softmax(Q K^T / sqrt(d) + bias) V``.

    One fused QKV projection, all heads in one ``scaled_dot_product_attention`` call.
    With ``positional = "rotary"`` (set by the compiler) queries and keys are rotated by
    their position; with ``"alibi"`` the ALiBi bias is added to the scores.

    Parameters
    ----------
    hidden_dim : int
        Model width; must be divisible by ``num_heads``.
    num_heads : int
        Number of heads.
    dropout : float
        Dropout on the attention weights (training only).
    causal : bool
        Query ``i`` attends to keys ``j <= i`` only.

    Notes
    -----
    ``forward(x, mask=None, return_attention=False)``: ``mask`` is ``(B, N)`` bool, True
    for real tokens; padded keys get zero weight. With ``return_attention=True`` the
    weights ``(B, H, N, N)`` are computed explicitly and returned with the output.
    """

    def __init__(
        self, hidden_dim: int, num_heads: int = 8, dropout: float = 0.0, causal: bool = False
    ) -> None:
        super().__init__(hidden_dim, num_heads, dropout)
        self.causal = bool(causal)
        self.positional = "none"  # "rotary" or "alibi": set by the compiler

    def forward(
        self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor | None]:
        mask = self.check_input(x, mask)
        n = x.shape[1]
        q, k, v = self.heads(x)
        if self.positional == "rotary":
            q, k = apply_rotary(q), apply_rotary(k)
        bias = (
            alibi_bias(self.num_heads, n, x.device, q.dtype) if self.positional == "alibi" else None
        )
        attn_mask, is_causal = score_mask(mask, bias, self.causal, n, x.device)
        if return_attention:
            out, weights = self._explicit(q, k, v, attn_mask, is_causal)
            return self.merge(out), weights
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=p, is_causal=is_causal
        )
        return self.merge(out)

    def _explicit(
        self, q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None, is_causal: bool
    ) -> tuple[Tensor, Tensor]:
        """The same attention with the weights materialised (for ``return_attention``)."""
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if is_causal:
            attn_mask = _lower_triangle(q.shape[-2], q.device)
        if attn_mask is not None and attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        elif attn_mask is not None:
            scores = scores + attn_mask
        weights = torch.softmax(scores, dim=-1)
        dropped = F.dropout(weights, self.dropout, self.training) if self.dropout else weights
        return dropped @ v, weights


__all__ = ["StandardAttention"]
