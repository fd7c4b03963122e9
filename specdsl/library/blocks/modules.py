"""Composite blocks (torch): whole blocks built around several token mixers.

Every block takes its mixers as modules (``mixers=[...]``), calls each through
:func:`specdsl.compiler.blocks.mix` (padded positions zeroed, ``mask`` passed on) and
shares norms, feed-forward and dropout with the default block via ``ResidualBlock``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.compiler.blocks import ResidualBlock, mix
from specdsl.library.blocks import (
    AdaptiveBlockConfig,
    BlockConfig,
    CascadeBlockConfig,
    MultiscaleBlockConfig,
    ParallelBlockConfig,
    PostNormBlockConfig,
)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


class TokenGate(nn.Module):
    """Per-token weights over ``branches`` outputs: ``softmax(Linear(D, k)(h))``.

    With ``hard=True`` the forward value is the one-hot argmax and the gradient is the
    softmax's (straight-through estimator, Bengio et al. 2013).

    Parameters
    ----------
    hidden_dim : int
        Width ``D`` of the gate input.
    branches : int
        Number of outputs ``k`` to weigh.
    hard : bool
        One-hot forward, softmax backward.
    """

    def __init__(self, hidden_dim: int, branches: int, hard: bool = False):
        super().__init__()
        self.proj = nn.Linear(hidden_dim, branches)
        self.hard = hard

    def forward(self, h: Tensor) -> Tensor:
        soft = self.proj(h).softmax(dim=-1)
        if not self.hard:
            return soft
        one_hot = F.one_hot(soft.argmax(dim=-1), soft.shape[-1]).to(soft.dtype)
        return one_hot + (soft - soft.detach())  # exactly one-hot forward, softmax gradient


def weighted_sum(outputs: Sequence[Tensor], weights: Tensor) -> Tensor:
    """``sum_i weights[..., i] * outputs[i]`` for ``(B, N, D)`` outputs and ``(B, N, k)`` weights.

    Element-wise on purpose: ``FlopCounterMode`` sees no matrix product, and the cost
    formula counts this work in ``other_flops`` (see ``gate_cost``).
    """
    return (torch.stack(tuple(outputs), dim=-1) * weights.unsqueeze(-2)).sum(dim=-1)


class CompositeBlock(ResidualBlock):
    """Base of the composite blocks: a ``ResidualBlock`` holding several mixers.

    Parameters
    ----------
    mixers : sequence of nn.Module
        The token mixers, each called as ``mixer(x, mask=mask)`` on ``(B, N, D)``.
    hidden_dim : int
        Model width ``D``.
    ffn_hidden_dim : int, optional
        Feed-forward width (default ``4 * hidden_dim``).
    dropout : float
        Dropout on the residual branches and inside the FFN, in ``[0, 1)``.
    norm_eps : float
        LayerNorm epsilon, ``> 0``.
    """

    config_class: ClassVar[type[BlockConfig]]

    def __init__(
        self,
        mixers: Sequence[nn.Module],
        hidden_dim: int,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
    ):
        mixers = list(mixers)
        if not all(isinstance(m, nn.Module) for m in mixers):
            raise ValueError("mixers must be torch.nn.Module instances")
        self.config_class().num_mixers(len(mixers))  # ValueError naming the allowed count
        width = 4 * hidden_dim if ffn_hidden_dim is None else ffn_hidden_dim
        super().__init__(hidden_dim, width, dropout, norm_eps, self.config_class.num_norms)
        self.mixers = nn.ModuleList(mixers)

    @classmethod
    def from_config(
        cls,
        config: BlockConfig,
        mixers: Sequence[nn.Module],
        hidden_dim: int,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
    ) -> CompositeBlock:
        """Build the block from its config, its mixers and the block options."""
        options: dict[str, Any] = config.model_dump()
        return cls(mixers, hidden_dim, ffn_hidden_dim, dropout, norm_eps, **options)

    def outputs(self, h: Tensor, mask: Tensor | None) -> list[Tensor]:
        """Every mixer on the same input ``h``."""
        return [mix(mixer, h, mask) for mixer in self.mixers]


class SingleMixerBlock(CompositeBlock):
    """A composite block around one mixer (it differs from ``Block`` in its wiring)."""

    def mix_tokens(self, h: Tensor, mask: Tensor | None) -> Tensor:
        return mix(self.mixers[0], h, mask)


class ParallelBlock(SingleMixerBlock):
    """``h = LN(x); y = x + mixer(h) + FFN(h)``: one shared pre-norm (GPT-J, PaLM)."""

    config_class = ParallelBlockConfig

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        h = self.norm1(x)
        return x + self.dropout(self.mix_tokens(h, mask)) + self.dropout(self.ffn(h))


class PostNormBlock(SingleMixerBlock):
    """``x = LN1(x + mixer(x)); y = LN2(x + FFN(x))`` (post-norm, original Transformer)."""

    config_class = PostNormBlockConfig

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        x = self.norm1(x + self.dropout(self.mix_tokens(x, mask)))
        return self.norm2(x + self.dropout(self.ffn(x)))


class CascadeBlock(CompositeBlock):
    """``x + m_k(...m_1(LN1(x)))`` then the FFN sub-block; no norms between the mixers.

    Each mixer's input has its padded positions zeroed again (see ``mix``).
    """

    config_class = CascadeBlockConfig

    def mix_tokens(self, h: Tensor, mask: Tensor | None) -> Tensor:
        for mixer in self.mixers:  # a handful of distinct modules, in order
            h = mix(mixer, h, mask)
        return h


class MultiscaleBlock(CompositeBlock):
    """Mixers in parallel on ``LN1(x)``, fused, then the FFN sub-block.

    Parameters
    ----------
    mixers, hidden_dim, ffn_hidden_dim, dropout, norm_eps
        As in :class:`CompositeBlock` (2 to 8 mixers).
    fusion : {"add", "concat", "gate"}
        ``add``: sum of the outputs; ``concat``: ``Linear(k D, D)`` on their
        concatenation; ``gate``: per-token softmax weights ``softmax(Linear(D, k)(h))``.
    """

    config_class = MultiscaleBlockConfig
    FUSIONS: ClassVar[tuple[str, ...]] = ("add", "concat", "gate")

    def __init__(
        self,
        mixers: Sequence[nn.Module],
        hidden_dim: int,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        fusion: str = "add",
    ):
        super().__init__(mixers, hidden_dim, ffn_hidden_dim, dropout, norm_eps)
        self.fusion = _choice("fusion", fusion, self.FUSIONS)
        k = len(self.mixers)
        self.fuse_proj = nn.Linear(k * hidden_dim, hidden_dim) if fusion == "concat" else None
        self.gate = TokenGate(hidden_dim, k) if fusion == "gate" else None

    def mix_tokens(self, h: Tensor, mask: Tensor | None) -> Tensor:
        outputs = self.outputs(h, mask)
        if self.fuse_proj is not None:
            return self.fuse_proj(torch.cat(outputs, dim=-1))
        if self.gate is not None:
            return weighted_sum(outputs, self.gate(h))
        return torch.stack(outputs).sum(dim=0)


class AdaptiveBlock(CompositeBlock):
    """A learned per-token gate ``Linear(D, 2)`` mixes two mixers' outputs.

    Parameters
    ----------
    mixers, hidden_dim, ffn_hidden_dim, dropout, norm_eps
        As in :class:`CompositeBlock` (exactly 2 mixers).
    gate : {"soft", "hard"}
        ``soft``: softmax weights; ``hard``: the one-hot argmax forward with the softmax
        gradient backward (straight-through). Both mixers always run.
    """

    config_class = AdaptiveBlockConfig
    GATES: ClassVar[tuple[str, ...]] = ("soft", "hard")

    def __init__(
        self,
        mixers: Sequence[nn.Module],
        hidden_dim: int,
        ffn_hidden_dim: int | None = None,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
        gate: str = "soft",
    ):
        super().__init__(mixers, hidden_dim, ffn_hidden_dim, dropout, norm_eps)
        self.gate_type = _choice("gate", gate, self.GATES)
        self.gate = TokenGate(hidden_dim, len(self.mixers), hard=gate == "hard")

    def mix_tokens(self, h: Tensor, mask: Tensor | None) -> Tensor:
        return weighted_sum(self.outputs(h, mask), self.gate(h))


__all__ = [
    "AdaptiveBlock",
    "CascadeBlock",
    "CompositeBlock",
    "MultiscaleBlock",
    "ParallelBlock",
    "PostNormBlock",
    "TokenGate",
]
