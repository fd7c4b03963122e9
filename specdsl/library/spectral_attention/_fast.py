"""Linear attention with random features in few passes, all heads at once.

Layout: q, k and v come out of the projection *head-major*, ``(3, H, B, N, d)``, from one
batched matrix product (the input is shared by every head through a stride-0 batch), so
every per-head product below is a plain view, never a copy.

Feature maps (``c = d^-1/4`` folded into ``omega``, ``w`` = 1/2 for softmax, 1 for the
positive Gaussian features):

* queries: ``exp(q omega - max_f q omega_f)``; the ``-w |q|^2`` term and the ``1/sqrt(m)``
  scale are constant along a query's row and cancel in ``num / den``, so they are skipped;
* keys: ``exp(k omega - w |k|^2 - G)``, ``G`` one maximum of the log-features over the real
  keys of a (head, batch); the ``1/sqrt(m)`` scale cancels. Padded keys get ``-inf`` in the
  exponent: their features are exactly zero;
* ReLU features: ``relu(x omega)`` (padded keys zeroed).

The stabilisers are constants along the attention sums (computed without gradient), as in
:class:`specdsl.kernels.RFFAttentionKernel`, so the result is the same function.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

#: Feature kinds this module computes; the others use the kernel's own ``compute_attention``.
FAST_KINDS = {"softmax": 0.5, "gaussian": 1.0, "relu": 0.0}


def head_major_qkv(weight: Tensor, bias: Tensor | None, x: Tensor, heads: int) -> Tensor:
    """q, k, v of ``x`` ``(B, N, D)`` as ``(3, H, B, N, d)`` from one batched product.

    ``weight`` is the fused ``(3 H d, D)`` projection; the FLOPs are those of
    ``nn.Linear`` (``2 B N D 3Hd``).
    """
    b, n, width = x.shape
    head_dim = weight.shape[0] // (3 * heads)
    per_head = weight.to(x.dtype).view(3 * heads, head_dim, width).mT
    rows = x.reshape(1, b * n, width).expand(3 * heads, -1, -1)
    if bias is None:
        out = torch.bmm(rows, per_head)
    else:
        out = torch.baddbmm(bias.to(x.dtype).view(3 * heads, 1, head_dim), rows, per_head)
    return out.view(3, heads, b, n, head_dim)


def _row_max(proj: Tensor) -> Tensor:
    return proj.detach().amax(dim=-1, keepdim=True)


def query_features(q: Tensor, omega: Tensor, kind: str) -> Tensor:
    """Features of the queries ``(..., N, d)`` up to a positive factor per row."""
    proj = q @ omega
    if kind == "relu":
        return proj.relu_()
    return proj.sub_(_row_max(proj)).exp_()


def key_features(k: Tensor, omega: Tensor, kind: str, scale: float, mask: Tensor | None) -> Tensor:
    """Features of the keys ``(H, B, N, d)`` up to one positive factor per (head, batch).

    ``scale`` is the factor folded into ``omega`` (``|c k|^2 = c^2 |k|^2``); ``mask``
    ``(B, N)`` is True for real keys: the others get features exactly zero.
    """
    proj = k @ omega
    if kind == "relu":
        proj = proj.relu_()
        return proj if mask is None else proj.mul_(mask[..., None].to(proj.dtype))
    logits = proj.sub_(FAST_KINDS[kind] * scale * scale * k.square().sum(-1, keepdim=True))
    with torch.no_grad():
        shift = _key_shift(logits.detach(), mask)
    return logits.sub_(shift).exp_()


def _key_shift(logits: Tensor, mask: Tensor | None) -> Tensor:
    """The largest log-feature over the real keys of each (head, batch) (0 if none), and
    ``+inf`` on padded keys so that their features vanish."""
    if mask is None:
        return logits.amax(dim=(-2, -1), keepdim=True)
    rows = logits.amax(dim=-1, keepdim=True).masked_fill_(~mask[..., None], -math.inf)
    stab = rows.amax(dim=-2, keepdim=True)
    stab = torch.where(torch.isfinite(stab), stab, torch.zeros_like(stab))
    return stab.masked_fill(~mask[..., None], math.inf)


def linear_attention(phi_q: Tensor, phi_k: Tensor, v: Tensor, eps: float = 1e-12) -> Tensor:
    """Non-causal ``phi(q) (phi(k)^T v) / phi(q) (phi(k)^T 1)`` on ``(..., N, F)`` features.

    Matmul FLOPs ``4 N F d + 2 N F`` per head; the ``N x N`` matrix is never formed.
    """
    state = phi_k.mT @ v
    total = phi_k.sum(dim=-2).unsqueeze(-1)
    num = phi_q @ state
    den = (phi_q @ total).clamp_min_(eps)
    return num.div_(den)


def fast_linear_attention(
    qkv: Tensor, omega: Tensor, kind: str, scale: float, mask: Tensor | None
) -> Tensor:
    """Non-causal linear attention of head-major ``qkv`` ``(3, H, B, N, d)`` -> ``(H, B, N, d)``.

    ``omega`` ``(d, m)`` are the random directions, ``scale`` (``d^-1/4``) the factor
    applied to q and k first (folded into ``omega``).
    """
    q, k, v = qkv.unbind(0)
    omega = omega.to(q.dtype) * scale
    phi_q = query_features(q, omega, kind)
    phi_k = key_features(k, omega, kind, scale, mask)
    return linear_attention(phi_q, phi_k, v)


__all__ = [
    "FAST_KINDS",
    "fast_linear_attention",
    "head_major_qkv",
    "key_features",
    "linear_attention",
    "query_features",
]
