"""The validated spec: pydantic models for the model-level fields and the layer pattern."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PositionalEncoding = Literal["sinusoidal", "learned", "rotary", "alibi", "none"]
HeadType = Literal["none", "classification", "regression", "sequence", "lm"]
Pooling = Literal["cls", "mean", "max"]


class LayerSpec(BaseModel):
    """One pattern item: a block whose token mixer is ``type`` with the given ``args``.

    ``args`` hold what the spec wrote (by keyword), not the resolved config; composite
    blocks (``cascade(fourier, lst(dct))``) keep their layer arguments in ``layers``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    args: dict[str, Any] = Field(default_factory=dict)
    layers: list[LayerSpec] = Field(default_factory=list)


class RepeatSpec(BaseModel):
    """``repeat N [ ... ]``: the items, N times in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repeat: int = Field(ge=1)
    layers: list[LayerSpec | RepeatSpec] = Field(min_length=1)


Item = LayerSpec | RepeatSpec


class HeadSpec(BaseModel):
    """The output head."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: HeadType = "none"
    num_classes: int | None = Field(default=None, gt=0)
    pooling: Pooling = "mean"
    tie_weights: bool = False  # lm head: share the embedding matrix


class Spec(BaseModel):
    """A whole architecture (SPEC.md §2). Construct with :func:`specdsl.parse`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "model"
    vocab_size: int | None = Field(default=None, gt=0)
    hidden_dim: int = Field(default=512, gt=0)
    max_sequence_length: int = Field(default=1024, gt=0)
    ffn_hidden_dim: int | None = Field(default=None, gt=0)  # None: 4 * hidden_dim
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    norm_eps: float = Field(default=1e-5, gt=0.0)
    positional_encoding: PositionalEncoding = "sinusoidal"
    causal: bool = False
    gradient_checkpointing: bool = False
    head: HeadSpec = Field(default_factory=HeadSpec)
    defaults: dict[str, dict[str, Any]] = Field(default_factory=dict)
    seed: int | None = None
    layers: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _head_needs(self) -> Spec:
        head = self.head
        if head.type in ("classification", "regression", "sequence") and head.num_classes is None:
            raise ValueError(f"a {head.type} head needs num_classes")
        if head.type == "lm" and self.vocab_size is None:
            raise ValueError("an lm head needs vocab_size")
        if head.tie_weights and (head.type != "lm" or self.vocab_size is None):
            raise ValueError("tie_weights needs an lm head and vocab_size")
        return self

    @property
    def ffn_dim(self) -> int:
        return self.ffn_hidden_dim or 4 * self.hidden_dim


def expand(items: list[Item]) -> list[tuple[LayerSpec, tuple[tuple[str, int], ...]]]:
    """Flatten repeats: each block with the repeat groups it came from.

    A group is ``(repeat_id, iteration)``; ``repeat_id`` names the ``repeat`` item by its
    place in the pattern (``"2"``, ``"2.0"`` for a repeat nested in it), outermost first.
    """
    out: list[tuple[LayerSpec, tuple[tuple[str, int], ...]]] = []

    def walk(items: list[Item], prefix: str, path: tuple[tuple[str, int], ...]) -> None:
        for index, item in enumerate(items):
            if isinstance(item, RepeatSpec):
                repeat_id = f"{prefix}{index}"
                for iteration in range(item.repeat):
                    walk(item.layers, repeat_id + ".", (*path, (repeat_id, iteration)))
            else:
                out.append((item, path))

    walk(items, "", ())
    return out


def count_blocks(items: list[Item]) -> int:
    """Number of blocks after expanding repeats, computed without expanding."""
    return sum(
        item.repeat * count_blocks(item.layers) if isinstance(item, RepeatSpec) else 1
        for item in items
    )
