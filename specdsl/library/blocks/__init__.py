"""Composite blocks and the standard block: schemas and cost formulas (no torch).

A composite block takes token mixers as arguments (``cascade(fourier, lst(dct))``) and
builds a whole block around them: norms, residual connections, the feed-forward network
and whatever combines the mixers (a fusion layer or a gate). See docs/blocks.md.

Cost formulas live here so that the estimate never imports torch:

- :func:`norm_cost`, :func:`ffn_cost`: one LayerNorm, one feed-forward network;
- :func:`standard_block_cost`: the default pre-norm block around one mixer;
- ``BlockConfig.cost``: a composite block's own parts only (norms, FFN, fusion/gate);
- :func:`block_cost`: a whole composite block, its children's mixer costs included.

Element-wise FLOP conventions (``other_flops``, per element): LayerNorm 7 (mean,
centring, square, variance sum, normalisation, scale, shift), GELU 8, residual add 1,
softmax 3 (exp, sum, divide). Bias additions of linear layers are not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from pydantic import Field

from specdsl.library.base import Cost, Dims, LayerConfig, linear_cost, register_layer

LAYER_NORM_FLOPS = 7  # per element
GELU_FLOPS = 8  # per element
SOFTMAX_FLOPS = 3  # per element
MAX_MIXERS = 8  # most token mixers one multi-mixer block takes


def _elementwise(dims: Dims, per_token: int, flops_per_element: int, saved: bool = True) -> Cost:
    """Element-wise work on ``per_token`` values of every token (input kept for backward)."""
    elements = dims.batch * dims.seq_len * per_token
    return Cost(
        other_flops=flops_per_element * elements,
        activation_bytes=elements * dims.dtype_bytes if saved else 0,
    )


def norm_cost(dims: Dims) -> Cost:
    """One ``nn.LayerNorm(D)`` on every token: ``2 D`` parameters, 7 FLOPs per element.

    Kept for backward: its input and the per-token mean and reciprocal deviation.
    """
    stats = Cost(activation_bytes=2 * dims.batch * dims.seq_len * dims.dtype_bytes)
    own = Cost(params=2 * dims.hidden_dim) + stats
    return own + _elementwise(dims, dims.hidden_dim, LAYER_NORM_FLOPS)


def ffn_cost(dims: Dims, ffn_hidden_dim: int) -> Cost:
    """``Linear(D, F) -> GELU -> Linear(F, D)`` on every token.

    Parameters ``D F + F + F D + D``; matmul FLOPs ``2 B N D F * 2``; GELU 8 FLOPs per
    element of the ``F``-wide hidden activation.
    """
    _check_positive("ffn_hidden_dim", ffn_hidden_dim)
    d = dims.hidden_dim
    up = linear_cost(dims, d, ffn_hidden_dim)
    down = linear_cost(dims, ffn_hidden_dim, d)
    return up + _elementwise(dims, ffn_hidden_dim, GELU_FLOPS) + down


def dropout_cost(dims: Dims, p: float, width: int | None = None) -> Cost:
    """Training-mode dropout on ``(B, N, width)``: a mask product (1 FLOP) and the mask kept.

    ``width`` defaults to ``hidden_dim``; ``p == 0`` is the identity: nothing is computed
    or kept.
    """
    if p == 0:
        return Cost(complexity="O(1)")
    return _elementwise(dims, dims.hidden_dim if width is None else width, 1)


def block_dropout_cost(dims: Dims, p: float, ffn_hidden_dim: int) -> Cost:
    """A block's dropout: on both residual branches (width ``D``) and inside the FFN (``F``)."""
    return dropout_cost(dims, p) * 2 + dropout_cost(dims, p, ffn_hidden_dim)


def residual_cost(dims: Dims, adds: int = 2) -> Cost:
    """``adds`` residual additions of ``(B, N, D)`` tensors (1 FLOP per element each)."""
    return _elementwise(dims, dims.hidden_dim, adds, saved=False)


def gate_cost(dims: Dims, branches: int) -> Cost:
    """A per-token softmax gate over ``branches`` mixer outputs and their weighted sum.

    ``Linear(D, k)``, a softmax over ``k`` values per token, then ``k`` multiplications and
    ``k - 1`` additions per output element; the ``k`` stacked outputs are kept for backward.
    """
    d = dims.hidden_dim
    weighted_sum = _elementwise(dims, d, 2 * branches - 1, saved=False)
    stacked = Cost(activation_bytes=dims.batch * dims.seq_len * d * branches * dims.dtype_bytes)
    softmax = _elementwise(dims, branches, SOFTMAX_FLOPS)
    return linear_cost(dims, d, branches) + softmax + weighted_sum + stacked


def standard_block_cost(dims: Dims, mixer: Cost, ffn_hidden_dim: int, dropout: float = 0.0) -> Cost:
    """The default pre-norm block: ``mixer`` plus two LayerNorms, the FFN, two residuals and
    the block's dropout (training mode)."""
    own = norm_cost(dims) * 2 + ffn_cost(dims, ffn_hidden_dim) + residual_cost(dims)
    return mixer + own + block_dropout_cost(dims, dropout, ffn_hidden_dim)


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")


class BlockConfig(LayerConfig):
    """Base of composite-block configs; ``cost`` covers the block's own parts only.

    The children's mixer costs are not included: add them, or call :func:`block_cost`.
    """

    #: LayerNorms the block holds (the parallel block shares one).
    num_norms: ClassVar[int] = 2

    def num_mixers(self, given: int | None = None) -> int:
        """Validate a number of child mixers (default: the fewest the block takes)."""
        low, high = type(self).entry.children
        count = low if given is None else given
        if not low <= count <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise ValueError(f"num_mixers: {type(self).entry.name} takes {wanted}, got {count}")
        return count

    def cost(
        self, dims: Dims, ffn_hidden_dim: int | None = None, num_mixers: int | None = None
    ) -> Cost:
        """Norms, feed-forward, residuals and mixer combination at ``dims``.

        Parameters
        ----------
        dims : Dims
            Batch, sequence length and width.
        ffn_hidden_dim : int, optional
            Feed-forward width ``F`` (default ``4 * hidden_dim``).
        num_mixers : int, optional
            Number of child mixers (default: the fewest the block takes).
        """
        width = 4 * dims.hidden_dim if ffn_hidden_dim is None else ffn_hidden_dim
        own = norm_cost(dims) * self.num_norms + ffn_cost(dims, width) + residual_cost(dims)
        return own + self.combine_cost(dims, self.num_mixers(num_mixers))

    def combine_cost(self, dims: Dims, num_mixers: int) -> Cost:
        """Cost of combining the mixer outputs (nothing for single-path blocks)."""
        return Cost()


def block_cost(
    config: BlockConfig,
    dims: Dims,
    children: Sequence[Cost],
    ffn_hidden_dim: int,
    dropout: float = 0.0,
) -> Cost:
    """The whole composite block: its own parts plus every child mixer.

    Parameters
    ----------
    config : BlockConfig
        The composite block's config (``parallel``, ``cascade``, ...).
    dims : Dims
        Batch, sequence length and width.
    children : sequence of Cost
        The child mixers' costs (``child_config.cost(dims)``), in order.
    ffn_hidden_dim : int
        Feed-forward width of the block.
    dropout : float
        The block's dropout probability (its masks are kept in training mode).
    """
    own = config.cost(dims, ffn_hidden_dim=ffn_hidden_dim, num_mixers=len(children))
    own = own + block_dropout_cost(dims, dropout, ffn_hidden_dim)
    return sum(children, own)  # Cost addition keeps the dominant complexity


_CAUSAL = None  # blocks are causal exactly when their mixers are (validated per child)


@register_layer(
    "parallel",
    module="specdsl.library.blocks.modules:ParallelBlock",
    family="block",
    kind="block",
    children=(1, 1),
    causal=_CAUSAL,
    summary="Parallel block: mixer and feed-forward side by side on one shared pre-norm.",
    math="h = LN(x); y = x + mixer(h) + FFN(h)",
    reference="Wang & Komatsuzaki, GPT-J-6B, 2021; Chowdhery et al., PaLM, 2022",
)
class ParallelBlockConfig(BlockConfig):
    """Parallel block: ``x + mixer(LN(x)) + FFN(LN(x))`` with one shared LayerNorm."""

    num_norms: ClassVar[int] = 1


@register_layer(
    "post_norm",
    module="specdsl.library.blocks.modules:PostNormBlock",
    family="block",
    kind="block",
    children=(1, 1),
    causal=_CAUSAL,
    summary="Post-norm block: normalise after each residual addition.",
    math="x = LN1(x + mixer(x)); y = LN2(x + FFN(x))",
    reference="Vaswani et al., Attention Is All You Need, NeurIPS 2017",
)
class PostNormBlockConfig(BlockConfig):
    """Post-norm block (original Transformer): ``LN(x + sublayer(x))`` twice."""


@register_layer(
    "cascade",
    module="specdsl.library.blocks.modules:CascadeBlock",
    family="block",
    kind="block",
    children=(2, MAX_MIXERS),
    causal=_CAUSAL,
    summary="Cascade block: several mixers in sequence inside one residual branch.",
    math="x = x + m_k(...m_1(LN1(x))); y = x + FFN(LN2(x))",
)
class CascadeBlockConfig(BlockConfig):
    """Cascade block: mixers applied one after another, no norms between them."""


Fusion = Literal["add", "concat", "gate"]


@register_layer(
    "multiscale",
    module="specdsl.library.blocks.modules:MultiscaleBlock",
    family="block",
    kind="block",
    children=(2, MAX_MIXERS),
    causal=_CAUSAL,
    summary="Multiscale block: mixers in parallel on one normed input, then fused.",
    math="h = LN1(x); x = x + fuse(m_1(h), ..., m_k(h)); y = x + FFN(LN2(x))",
    reference="Szegedy et al., Going Deeper with Convolutions (multi-branch fusion), CVPR 2015",
)
class MultiscaleBlockConfig(BlockConfig):
    """Multiscale block: parallel mixers fused by sum, concat + projection, or a softmax gate.

    ``fusion``: ``add`` sums the outputs; ``concat`` applies ``Linear(k D, D)`` to their
    concatenation; ``gate`` weighs them by ``softmax(Linear(D, k)(h))`` per token.
    """

    fusion: Fusion = Field(default="add", description="how the mixer outputs are combined")

    def combine_cost(self, dims: Dims, num_mixers: int) -> Cost:
        d = dims.hidden_dim
        if self.fusion == "concat":
            return linear_cost(dims, num_mixers * d, d)
        if self.fusion == "gate":
            return gate_cost(dims, num_mixers)
        return residual_cost(dims, num_mixers - 1)


@register_layer(
    "adaptive",
    module="specdsl.library.blocks.modules:AdaptiveBlock",
    family="block",
    kind="block",
    children=(2, 2),
    causal=_CAUSAL,
    summary="Adaptive block: a learned per-token gate chooses between two mixers.",
    math="g = softmax(W h), h = LN1(x); x = x + g_1 m_1(h) + g_2 m_2(h); y = x + FFN(LN2(x))",
    reference="Bengio et al., Estimating or Propagating Gradients Through Stochastic Neurons, 2013",
)
class AdaptiveBlockConfig(BlockConfig):
    """Adaptive block: ``Linear(D, 2)`` per token gates two mixers.

    ``gate``: ``soft`` weighs the outputs by the softmax; ``hard`` uses the one-hot argmax
    in the forward pass and the softmax gradient in the backward pass (straight-through).
    Both mixers always run.
    """

    gate: Literal["soft", "hard"] = Field(default="soft", description="soft weights or hard choice")

    def combine_cost(self, dims: Dims, num_mixers: int) -> Cost:
        return gate_cost(dims, num_mixers)


#: The config classes (re-exported by ``specdsl.config``); the cost functions above are
#: imported from this module by the estimate.
__all__ = [
    "AdaptiveBlockConfig",
    "BlockConfig",
    "CascadeBlockConfig",
    "MultiscaleBlockConfig",
    "ParallelBlockConfig",
    "PostNormBlockConfig",
]
