"""The transformer block: pre-norm residual token mixer, then pre-norm residual feed-forward."""

from __future__ import annotations

from torch import Tensor, nn


class FeedForward(nn.Module):
    """``Linear(D, F) -> GELU -> Linear(F, D)`` applied to every token."""

    def __init__(self, hidden_dim: int, ffn_hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(hidden_dim, ffn_hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(ffn_hidden_dim, hidden_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.dropout(self.act(self.fc1(x))))


def mix(mixer: nn.Module, x: Tensor, mask: Tensor | None) -> Tensor:
    """Run a token mixer on ``x`` with padded positions zeroed first.

    Zeroing padded inputs means their values can never reach real positions, whatever
    the mixer does; mixers that understand masks (attention) also get ``mask``.
    """
    if mask is None:
        return mixer(x)
    return mixer(x * mask.unsqueeze(-1).to(x.dtype), mask=mask)


class Block(nn.Module):
    """``x + mixer(norm(x))`` then ``x + ffn(norm(x))`` (pre-norm residual block)."""

    def __init__(self, mixer: nn.Module, hidden_dim: int, ffn_hidden_dim: int, dropout: float, norm_eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_dim, eps=norm_eps)
        self.mixer = mixer
        self.norm2 = nn.LayerNorm(hidden_dim, eps=norm_eps)
        self.ffn = FeedForward(hidden_dim, ffn_hidden_dim, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        x = x + self.dropout(mix(self.mixer, self.norm1(x), mask))
        return x + self.dropout(self.ffn(self.norm2(x)))
