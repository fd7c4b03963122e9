"""The estimate's result types: pydantic models whose JSON form is SPEC.md §8."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from specdsl.library.base import Cost


class CostRow(BaseModel):
    """Figures of one part of the model at the estimate's batch size and length."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    params: int = Field(description="parameters (tied weights counted once)")
    flops: int = Field(description="forward FLOPs: matmul_flops + other_flops")
    matmul_flops: int = Field(description="matrix-product FLOPs, 2*m*n*k (FlopCounterMode)")
    other_flops: int = Field(description="transforms and element-wise work (docs/estimates.md)")
    activation_bytes: int = Field(description="bytes kept for the backward pass (training)")
    complexity: str = Field(description="dominant growth in sequence length n")

    @classmethod
    def of(cls, cost: Cost, **fields: Any) -> Self:
        """A row holding ``cost``'s figures and the other ``fields``."""
        return cls(
            params=cost.params,
            flops=cost.flops,
            matmul_flops=cost.matmul_flops,
            other_flops=cost.other_flops,
            activation_bytes=cost.activation_bytes,
            complexity=cost.complexity,
            **fields,
        )


class BlockEstimate(CostRow):
    """One block, or one pattern item standing for ``count`` identical blocks.

    The figures are those of ONE block; the model holds ``count`` of them. ``index`` is the
    position of the first of them, ``group`` the innermost ``repeat`` it belongs to
    (``"0"``, ``"0.1"`` for a repeat nested in it; named as in :func:`specdsl.schema.spec.expand`).
    """

    index: int = Field(description="block index of the first block this row stands for")
    type: str = Field(description="layer type (DSL name)")
    label: str = Field(description="the layer as written in the pattern")
    count: int = Field(default=1, description="number of blocks this row stands for")
    group: str | None = Field(default=None, description="innermost repeat group, if any")


class PartEstimate(CostRow):
    """A model-level part outside the blocks: embedding, positional, dropout, final_norm, head."""

    type: str = Field(description="embedding | positional | dropout | final_norm | head")
    label: str = Field(description="what the part is, e.g. 'classification(mean)'")


class Estimate(BaseModel):
    """Size, cost and memory of a spec at one batch size and sequence length.

    Totals cover the whole model; ``layers`` has one row per block, or per pattern item
    with its repeat multiplicity in ``count`` (the default, collapsed form); ``parts`` has
    the embedding, positional encoding, dropout, final norm and head.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    batch_size: int
    seq_len: int
    params: int
    param_bytes: int
    activation_bytes: int
    flops: int
    matmul_flops: int
    other_flops: int
    complexity: str
    layers: list[BlockEstimate]
    num_blocks: int
    dtype: str = "float32"
    max_sequence_length: int
    parts: list[PartEstimate] = Field(default_factory=list)
    training: TrainingMemory | None = None


class TrainingMemory(BaseModel):
    """Memory of one training step: weights, gradients, optimizer state, activations.

    ``activations`` keeps every block's saved tensors; ``activations_checkpointed`` keeps
    only each block's input plus one block's tensors recomputed during backward
    (``recompute_bytes``). ``total_bytes`` uses the one ``checkpointing`` selects.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dtype: str
    optimizer: str
    checkpointing: bool
    weight_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    activation_bytes: int
    activation_bytes_checkpointed: int
    recompute_bytes: int
    total_bytes: int
    total_bytes_checkpointed: int
    memory_limit: int | None = None
    max_batch_size: int | None = Field(
        default=None, description="largest batch that fits memory_limit (0: not even one)"
    )


Estimate.model_rebuild()

__all__ = ["BlockEstimate", "CostRow", "Estimate", "PartEstimate", "TrainingMemory"]
