"""Adaptive Fourier Neural Operator (AFNO) token mixing: schema and cost formula (torch-free).

The spectrum is truncated to ``modes_seq`` sequence frequencies and ``modes_hidden``
hidden (channel) frequencies; a block-diagonal complex two-layer MLP, shared by every
retained sequence mode, mixes the retained hidden modes (docs/layers/fourier_family.md).
Parameters depend on ``modes_hidden``, ``num_blocks`` and ``mlp_ratio`` only, never on the
sequence length.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from specdsl.library.base import Cost, Dims, LayerConfig, fft_flops, register_layer
from specdsl.library.blocks import dropout_cost
from specdsl.library.fourier.costs import pair_matmul_flops

AFNOActivation = Literal["gelu", "relu", "silu", "tanh"]


def afno_shape(
    hidden_dim: int,
    max_sequence_length: int,
    modes_seq: int | None = None,
    modes_hidden: int | None = None,
    num_blocks: int | None = None,
    mlp_ratio: float = 2.0,
) -> tuple[int, int, int, int]:
    """Resolved ``(modes_seq, modes_hidden, num_blocks, block_hidden)``; ``ValueError`` if bad.

    Defaults: ``modes_seq = max_sequence_length // 2`` (at least 1), ``modes_hidden =
    hidden_dim // 2`` (at least 1), ``num_blocks = gcd(8, modes_hidden)``; each block of
    ``modes_hidden / num_blocks`` modes has an MLP of width ``int(block * mlp_ratio)``.
    """
    modes_seq = max(1, max_sequence_length // 2) if modes_seq is None else modes_seq
    modes_hidden = max(1, hidden_dim // 2) if modes_hidden is None else modes_hidden
    num_blocks = math.gcd(8, modes_hidden) if num_blocks is None else num_blocks
    limit = max_sequence_length // 2 + 1
    if not 1 <= modes_seq <= limit:
        raise ValueError(
            f"modes_seq must be in [1, {limit}] (max_sequence_length // 2 + 1 frequencies),"
            f" got {modes_seq}"
        )
    if not 1 <= modes_hidden <= hidden_dim:
        raise ValueError(
            f"modes_hidden must be in [1, {hidden_dim}] (hidden_dim), got {modes_hidden}"
        )
    if num_blocks < 1 or modes_hidden % num_blocks:
        raise ValueError(
            f"num_blocks ({num_blocks}) must be a positive divisor of modes_hidden ({modes_hidden})"
        )
    block = modes_hidden // num_blocks
    width = int(block * mlp_ratio)
    if width < 1:
        raise ValueError(
            f"mlp_ratio ({mlp_ratio}) times the block size ({block}) must be at least 1"
        )
    return modes_seq, modes_hidden, num_blocks, width


@register_layer(
    "afno",
    module="specdsl.library.afno.modules:AFNOMixing",
    family="afno",
    positional=("modes_seq",),
    context={"hidden_dim": "hidden_dim", "max_sequence_length": "max_sequence_length"},
    math="y = irfft_seq(ifft_hid(S_lambda(MLP_blocks(trunc(fft_hid(rfft_seq(x)))))))",
    reference="Guibas et al., Adaptive Fourier Neural Operators: Efficient Token Mixers "
    "for Transformers, ICLR 2022",
    causal="the truncated spectrum and its MLP couple every position with every other",
)
class AFNOMixingConfig(LayerConfig):
    """AFNO: block-diagonal complex MLP shared across the retained Fourier modes."""

    hidden_dim: int = Field(gt=0)
    max_sequence_length: int = Field(gt=0)
    modes_seq: int | None = Field(default=None, gt=0)
    modes_hidden: int | None = Field(default=None, gt=0)
    mlp_ratio: float = Field(default=2.0, gt=0.0)
    activation: AFNOActivation = "gelu"
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    num_blocks: int | None = Field(default=None, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        """Fill ``modes_seq``/``modes_hidden``/``num_blocks`` defaults from the widths."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        d, length = data.get("hidden_dim"), data.get("max_sequence_length")
        if data.get("modes_seq") is None and isinstance(length, int) and length > 0:
            data["modes_seq"] = max(1, length // 2)
        if data.get("modes_hidden") is None and isinstance(d, int) and d > 0:
            data["modes_hidden"] = max(1, d // 2)
        hidden = data.get("modes_hidden")
        if data.get("num_blocks") is None and isinstance(hidden, int) and hidden > 0:
            data["num_blocks"] = math.gcd(8, hidden)
        return data

    @model_validator(mode="after")
    def _check(self) -> AFNOMixingConfig:
        self.shape()
        return self

    def shape(self) -> tuple[int, int, int, int]:
        """See :func:`afno_shape`."""
        return afno_shape(
            self.hidden_dim,
            self.max_sequence_length,
            self.modes_seq,
            self.modes_hidden,
            self.num_blocks,
            self.mlp_ratio,
        )

    def cost(self, dims: Dims) -> Cost:
        """Transforms, the block MLP, placing the result and the layer's own dropout.

        Transforms (``modules._spectrum``): a real FFT over the hidden axis of every token
        and back, a complex FFT over the sequence of ``J = max(ceil(mh/2), floor(mh/2) + 1)``
        hidden columns and back. The block MLP: two pair matmuls per (batch, sequence
        mode, block) row, bias and activation on both parts of the hidden layer, bias and
        softshrink on the output; placing the result adds each directly placed bin (one
        complex addition). Kept for backward: the input (the hidden-axis ``rfft`` keeps
        it), the MLP input and the softshrink input
        (``2 mh`` values per retained row each), the hidden layer before and after the
        activation (``2 width`` values per block each), both ``(2 block, 2 width)`` real
        pair weights per block, and the dropout mask when ``dropout > 0``.
        """
        b, n, d = dims.batch, dims.seq_len, dims.hidden_dim
        modes_seq, modes_hidden, blocks, width = self.shape()
        block = modes_hidden // blocks
        kept = min(modes_seq, n // 2 + 1)
        columns = max((modes_hidden + 1) // 2, modes_hidden // 2 + 1)
        direct = (modes_hidden + 1) // 2 + int(2 * (modes_hidden // 2) == d)
        rows = b * kept * blocks  # one MLP application per (batch, sequence mode, block)
        transforms = 2 * b * n * fft_flops(d, real=True) + 2 * b * columns * fft_flops(n)
        elementwise = rows * (4 * width + 4 * block) + 2 * b * kept * direct
        kept_values = b * n * d + 4 * rows * (block + width) + 8 * blocks * block * width
        return Cost(
            params=2 * blocks * (2 * block * width + width + block),
            matmul_flops=pair_matmul_flops(rows, block, width)
            + pair_matmul_flops(rows, width, block),
            other_flops=transforms + elementwise,
            activation_bytes=kept_values * dims.dtype_bytes,
            complexity="O(n log n)",
        ) + dropout_cost(dims, self.dropout)


__all__ = ["AFNOMixingConfig"]
