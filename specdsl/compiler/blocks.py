"""The transformer block: pre-norm residual token mixer, then pre-norm residual feed-forward.

:class:`ResidualBlock` holds what every block shares (norms, feed-forward, dropout) and the
pre-norm wiring; :class:`Block` is the default block around one mixer, and the composite
blocks of ``specdsl.library.blocks`` subclass :class:`ResidualBlock` as well.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from specdsl.library.fused import fused_linear


def check_block_args(hidden_dim: int, ffn_hidden_dim: int, dropout: float, norm_eps: float) -> None:
    """Raise ``ValueError`` naming the argument and its allowed range on a bad block option."""
    for name, value in (("hidden_dim", hidden_dim), ("ffn_hidden_dim", ffn_hidden_dim)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if not norm_eps > 0.0:
        raise ValueError(f"norm_eps must be > 0, got {norm_eps!r}")


class FeedForward(nn.Module):
    """``Linear(D, F) -> GELU -> Linear(F, D)`` applied to every token.

    In inference on CPU (no autograd, float32) each product runs with its bias and
    activation fused (:func:`specdsl.library.fused.fused_linear`), and so does a
    ``residual`` added to the output; same values.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    ffn_hidden_dim : int
        Hidden width ``F``.
    dropout : float
        Dropout on the hidden activation (training only).
    """

    def __init__(self, hidden_dim: int, ffn_hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(hidden_dim, ffn_hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(ffn_hidden_dim, hidden_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, residual: Tensor | None = None) -> Tensor:
        """``FFN(x)``, plus ``residual`` (same shape as ``x``) when given."""
        # Without autograd on CPU the bias, GELU and residual run inside each product
        # (library/fused.py).
        hidden = self.dropout(fused_linear(x, self.fc1, self.act))
        return fused_linear(hidden, self.fc2, residual=residual)


def is_active(dropout: nn.Dropout) -> bool:
    """Whether ``dropout`` changes its input (training mode and ``p > 0``)."""
    return dropout.training and dropout.p > 0


def mix(mixer: nn.Module, x: Tensor, mask: Tensor | None, token_order: str | None = None) -> Tensor:
    """Run a token mixer on ``x`` with padded positions zeroed first.

    Zeroing padded inputs means their values can never reach real positions, whatever
    the mixer does; mixers that understand masks (attention) also get ``mask``
    (``(B, N)``, True = real token). ``masked_fill`` (not a product) also clears
    non-finite values that a padded position may hold.
    """
    options = {} if token_order is None else {"token_order": token_order}
    if mask is None:
        return mixer(x, **options)
    if tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(
            f"attention_mask must have shape (batch, seq_len) = {tuple(x.shape[:2])}, "
            f"got {tuple(mask.shape)}"
        )
    keep = mask.to(torch.bool)
    return mixer(x.masked_fill(~keep.unsqueeze(-1), 0.0), mask=keep, **options)


class ResidualBlock(nn.Module):
    """Norms, feed-forward and dropout of a block, wired pre-norm by default.

    ``forward`` computes ``x + mix_tokens(LN1(x))`` then ``x + FFN(LN2(x))``; subclasses
    define :meth:`mix_tokens` (the token-mixing branch) and may rewire ``forward``.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    ffn_hidden_dim : int
        Feed-forward width ``F``.
    dropout : float
        Dropout on both residual branches and inside the feed-forward network.
    norm_eps : float
        LayerNorm epsilon.
    num_norms : int
        2 (``norm1`` before the mixer, ``norm2`` before the FFN) or 1 (``norm1`` only).
    """

    def __init__(
        self,
        hidden_dim: int,
        ffn_hidden_dim: int,
        dropout: float,
        norm_eps: float,
        num_norms: int = 2,
    ):
        super().__init__()
        check_block_args(hidden_dim, ffn_hidden_dim, dropout, norm_eps)
        self.hidden_dim = hidden_dim
        self.norm1 = nn.LayerNorm(hidden_dim, eps=norm_eps)
        if num_norms not in (1, 2):
            raise ValueError(f"num_norms must be 1 or 2, got {num_norms!r}")
        # With one norm, norm2 is the identity: subclasses that share norm1 rewire forward.
        self.norm2 = nn.LayerNorm(hidden_dim, eps=norm_eps) if num_norms == 2 else nn.Identity()
        self.ffn = FeedForward(hidden_dim, ffn_hidden_dim, dropout)
        self.dropout = nn.Dropout(dropout)

    def mix_tokens(self, h: Tensor, mask: Tensor | None) -> Tensor:
        """The token-mixing branch on the normed input ``h``."""
        raise NotImplementedError

    def token_order(self, n: int) -> str | None:
        """The permuted token order the block can run in at length ``n``
        (:mod:`specdsl.compiler.token_order`), or None."""
        return None

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.residual_branches(x, lambda h: self.mix_tokens(h, mask))

    def residual_branches(self, x: Tensor, mix_branch: Callable[[Tensor], Tensor]) -> Tensor:
        """``x + mix_branch(LN1(x))`` then ``x + FFN(LN2(x))``, with the block's dropout."""
        x = x + self.dropout(mix_branch(self.norm1(x)))
        if not is_active(self.dropout):  # the residual goes into the last product
            return self.ffn(self.norm2(x), residual=x)
        # The FFN branch is a fresh tensor that autograd does not keep (the output of
        # dropout): adding the residual into it in place spares one (B, N, D) allocation.
        return self.dropout(self.ffn(self.norm2(x))).add_(x)


class Block(ResidualBlock):
    """``x + mixer(norm1(x))`` then ``x + ffn(norm2(x))`` (pre-norm residual block).

    Parameters
    ----------
    mixer : nn.Module
        The token mixer, called as ``mixer(x, mask=mask)``.
    hidden_dim, ffn_hidden_dim, dropout, norm_eps
        As in :class:`ResidualBlock`.
    """

    def __init__(
        self,
        mixer: nn.Module,
        hidden_dim: int,
        ffn_hidden_dim: int,
        dropout: float,
        norm_eps: float,
    ):
        super().__init__(hidden_dim, ffn_hidden_dim, dropout, norm_eps)
        self.mixer = mixer

    def mix_tokens(self, h: Tensor, mask: Tensor | None, token_order: str | None = None) -> Tensor:
        return mix(self.mixer, h, mask, token_order)

    def token_order(self, n: int) -> str | None:
        order = getattr(self.mixer, "token_order", None)
        return None if order is None else order(n)

    def forward(
        self, x: Tensor, mask: Tensor | None = None, token_order: str | None = None
    ) -> Tensor:
        """The block on ``x`` ``(B, N, D)``; with ``token_order`` (:meth:`token_order`)
        ``x`` and ``mask`` come in that order, and so does the output."""
        return self.residual_branches(x, lambda h: self.mix_tokens(h, mask, token_order))
