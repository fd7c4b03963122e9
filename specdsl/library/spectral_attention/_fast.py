"""Linear attention with random features in few passes, all heads at once.

Two layouts. Non-causal layers with these feature maps take q, k and v with the tokens
as *columns*, ``(B, H, 3, d, N)`` straight from one batched product (:func:`column_qkv`),
and keep every intermediate in it up to the output projection: no copy at all. The causal
path takes them *head-major* with the tokens as rows, ``(3, H, B, N, d)`` (one product,
one copy, :func:`head_major_qkv`). The functions below take the feature axis ``dim``
(``ROWS`` = -1 or ``COLUMNS`` = -2).

Feature maps (``c = d^-1/4`` folded into ``omega``, ``w`` = 1/2 for softmax, 1 for the
positive Gaussian features):

* queries: ``exp(q omega - max_f q omega_f)``; the ``-w |q|^2`` term and the ``1/sqrt(m)``
  scale are constant along a query's row and cancel in ``num / den``, so they are skipped;
* keys: ``exp(k omega - w |k|^2 - G)``, ``G`` one maximum of the log-features over the real
  keys of a (head, batch); the ``1/sqrt(m)`` scale cancels. Padded keys get ``-inf`` in the
  exponent: their features are exactly zero;
* ReLU features: ``relu(x omega)`` (padded keys get ``-inf`` before the ReLU).

The stabilisers are constants along the attention sums (computed without gradient), as in
:class:`specdsl.kernels.RFFAttentionKernel`, so the result is the same function.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.library.attention._shared import linear
from specdsl.library.fused import parameters_in
from specdsl.library.spectral_attention import causal_chunk

#: Feature kinds this module computes (with the weight of ``|x|^2`` in the key exponent);
#: the others use the kernel's own feature map.
FAST_KINDS = {"softmax": 0.5, "gaussian": 1.0, "relu": 0.0}


def head_major_qkv(projection: nn.Linear, x: Tensor, heads: int) -> Tensor:
    """q, k, v of ``x`` ``(B, N, D)`` as a contiguous ``(3, H, B, N, d)`` tensor.

    One product with the fused ``(3 H d, D)`` projection (FLOPs those of ``nn.Linear``,
    ``2 B N D 3Hd``), then one copy into the head-major layout: a single wide product runs
    far closer to the machine's GEMM rate than ``3 H`` batched products ``d`` columns wide.
    """
    b, n, _ = x.shape
    head_dim = projection.out_features // (3 * heads)
    qkv = linear(projection, x).view(b, n, 3, heads, head_dim)
    return qkv.permute(2, 3, 0, 1, 4).contiguous()


def column_qkv(projection: nn.Linear, x: Tensor, heads: int) -> Tensor:
    """q, k, v of ``x`` ``(B, N, D)`` with the tokens as columns: ``(B, H, 3, d, N)``.

    One batched product ``W' x_b^T`` per batch element, the weight rows reordered
    head-major (``(H, 3, d)``) so that each of q, k and v is a ``(B H, d, N)`` batch of
    contiguous matrices with one batch stride: every later product takes them as they
    are, and no copy of the projections is ever made. FLOPs those of ``nn.Linear``.
    """
    b, n, width = x.shape
    weight, bias = parameters_in(projection, x.dtype)
    head_dim = weight.shape[0] // (3 * heads)
    weights = weight.view(3, heads, head_dim, width).transpose(0, 1).reshape(-1, width)
    if bias is not None:
        bias = bias.view(3, heads, head_dim).transpose(0, 1).reshape(-1, 1)
    # the weight as a stride-0 batch (torch.matmul would copy x)
    out = _batched_product(bias, weights.expand(b, -1, -1), x.mT)
    return out.view(b, heads, 3, head_dim, n)


def column_output(projection: nn.Linear, y: Tensor) -> Tensor:
    """``projection`` applied to the heads ``y`` ``(B, H d, N)`` (tokens as columns):
    ``(B, N, D)`` from one batched product on the transposed operand (no copy)."""
    weight, bias = parameters_in(projection, y.dtype)
    return _batched_product(bias, y.mT, weight.mT.expand(y.shape[0], -1, -1))


def _batched_product(bias: Tensor | None, a: Tensor, b: Tensor) -> Tensor:
    """``a @ b (+ bias)`` over a batch, the bias added by the product itself."""
    return torch.bmm(a, b) if bias is None else torch.baddbmm(bias, a, b)


#: The feature axis of the two layouts: tokens as rows ``(..., N, F)`` (head-major q, k, v
#: and the causal path) or as columns ``(..., F, N)`` (:func:`column_qkv`).
ROWS, COLUMNS = -1, -2


def _sequence_axis(dim: int) -> int:
    """The token axis of the layout whose feature axis is ``dim``."""
    return COLUMNS if dim == ROWS else ROWS


def project(x: Tensor, omega: Tensor, dim: int = ROWS) -> Tensor:
    """``x omega`` per token: ``(..., N, d) @ (d, m)``, or ``omega^T (..., d, N)`` for columns."""
    return x @ omega if dim == ROWS else omega.mT @ x


def query_features(q: Tensor, omega: Tensor, kind: str, dim: int = ROWS) -> Tensor:
    """Features of the queries up to a positive factor per query (``dim``: feature axis)."""
    proj = project(q, omega, dim)
    if kind == "relu":
        return proj.relu_()
    return proj.sub_(proj.detach().amax(dim=dim, keepdim=True)).exp_()


def key_features(
    k: Tensor, omega: Tensor, kind: str, scale: float, keep: Tensor | None, dim: int = ROWS
) -> Tensor:
    """Features of the keys up to one positive factor per (head, batch).

    ``scale`` is the factor folded into ``omega`` (``|c k|^2 = c^2 |k|^2``); ``keep`` is
    True for real keys, shaped to broadcast against the features with size 1 on the
    feature axis ``dim`` (``(B, N, 1)`` for rows, ``(B, 1, 1, N)`` for columns): the other
    keys get features exactly zero.
    """
    proj = project(k, omega, dim)
    if kind == "relu":
        if keep is not None:  # padded keys: -inf before the ReLU (a constant: nothing kept)
            proj.sub_(_infinite_where_padded(keep, proj.dtype))
        return proj.relu_()
    norms = k.square().sum(dim, keepdim=True)
    logits = proj.sub_(norms, alpha=FAST_KINDS[kind] * scale * scale)
    with torch.no_grad():
        shift = _key_shift(logits.detach(), keep, dim)
    return logits.sub_(shift).exp_()


def _infinite_where_padded(keep: Tensor, dtype: torch.dtype) -> Tensor:
    """``+inf`` on padded keys (``keep`` False), 0 on real ones, in ``keep``'s shape."""
    return torch.zeros_like(keep, dtype=dtype).masked_fill_(~keep, math.inf)


def _key_shift(logits: Tensor, keep: Tensor | None, dim: int) -> Tensor:
    """The largest log-feature over the real keys of each (head, batch) (0 if none), and
    ``+inf`` on padded keys so that their features vanish."""
    if keep is None:
        return logits.amax(dim=(-2, -1), keepdim=True)
    per_key = logits.amax(dim=dim, keepdim=True).masked_fill_(~keep, -math.inf)
    stab = per_key.amax(dim=_sequence_axis(dim), keepdim=True)
    stab = torch.where(torch.isfinite(stab), stab, torch.zeros_like(stab))
    return stab.masked_fill(~keep, math.inf)


def linear_attention(
    phi_q: Tensor, phi_k: Tensor, v: Tensor, eps: float = 1e-12, dim: int = ROWS
) -> Tensor:
    """Non-causal ``phi(q) (phi(k)^T v) / phi(q) (phi(k)^T 1)``.

    Rows: features ``(..., N, F)``, values and output ``(..., N, d)``; columns: ``(..., F,
    N)`` and ``(..., d, N)``. Matmul FLOPs ``4 N F d + 2 N F`` per head; the ``N x N``
    matrix is never formed.
    """
    if dim == COLUMNS:
        state = phi_k @ v.mT  # (..., F, d)
        total = phi_k.sum(dim=-1, keepdim=True)  # (..., F, 1)
        num = state.mT @ phi_q
        den = (total.mT @ phi_q).clamp_min_(eps)
        return num.div_(den)
    state = phi_k.mT @ v
    total = phi_k.sum(dim=-2).unsqueeze(-1)
    num = phi_q @ state
    den = (phi_q @ total).clamp_min_(eps)
    return num.div_(den)


def causal_linear_attention(phi_q: Tensor, phi_k: Tensor, v: Tensor, eps: float = 1e-12) -> Tensor:
    """Causal ``sum_{j <= t} phi(q_t) . phi(k_j) v_j / sum_{j <= t} phi(q_t) . phi(k_j)``.

    ``(..., N, F)`` features and ``(..., N, d)`` values, ``N`` a multiple of
    ``c = causal_chunk(N, F, d)`` (pad first); returns ``(..., N, d)``. Chunked, with
    matrix products only, all chunks at once (no loop): within a chunk the masked scores
    ``tril(phi(q) phi(k)^T)`` (``c x c``), across chunks the exclusive prefix sums of the
    chunk states ``phi(k)^T v`` (``F x d``) and ``phi(k)^T 1``. Matmul FLOPs per row
    ``2 c F + 2 c d + 4 F d + 2 F``; kept for backward per row: the scores (``c``) and, per
    chunk, the prefix states (``F d + F``) besides the features, values and the division.
    """
    n, width = phi_q.shape[-2:]
    c = causal_chunk(n, width, v.shape[-1])
    q, k, v = (t.unflatten(-2, (n // c, c)) for t in (phi_q, phi_k, v))
    scores = (q @ k.mT).tril_()
    states = _exclusive_cumsum(k.mT @ v)  # (..., m, F, d)
    totals = _exclusive_cumsum(k.sum(dim=-2, keepdim=True).mT)  # (..., m, F, 1)
    num = (q @ states).add_(scores @ v)
    den = (q @ totals).squeeze(-1).add_(scores.sum(dim=-1)).clamp_min_(eps)
    return num.div_(den.unsqueeze(-1)).flatten(-3, -2)


def _exclusive_cumsum(chunks: Tensor) -> Tensor:
    """Sums of the chunks before each one, along dim ``-3`` (the first one gets zeros)."""
    return F.pad(chunks.cumsum(dim=-3)[..., :-1, :, :], (0, 0, 0, 0, 1, 0))


def pad_rows(x: Tensor, rows: int) -> Tensor:
    """``x`` ``(..., N, d)`` zero-padded to ``rows`` rows (``x`` itself when no padding)."""
    extra = rows - x.shape[-2]
    return x if extra == 0 else F.pad(x, (0, 0, 0, extra))


__all__ = [
    "COLUMNS",
    "FAST_KINDS",
    "ROWS",
    "causal_linear_attention",
    "column_output",
    "column_qkv",
    "head_major_qkv",
    "key_features",
    "linear_attention",
    "pad_rows",
    "project",
    "query_features",
]
