"""Walk a validated spec and add up the registry's cost formulas (no torch, no weights).

Repeats are never expanded: a ``repeat N [...]`` item costs ``N`` times its items, so a
pattern of a billion blocks estimates as fast as one block. Every figure comes from a cost
formula that sits beside its module: mixers (``config.cost``), blocks
(:mod:`specdsl.library.blocks`) and the model-level parts (:mod:`specdsl.library.core`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from specdsl.api import parse
from specdsl.estimate.model import BlockEstimate, Estimate, PartEstimate
from specdsl.language.dump import format_layer
from specdsl.library import Cost, Dims, LayerConfig
from specdsl.library.blocks import BlockConfig, block_cost, standard_block_cost
from specdsl.library.core import (
    dropout_cost,
    embedding_cost,
    final_norm_cost,
    head_cost,
    positional_cost,
    score_position_cost,
)
from specdsl.schema.resolve import block_options, resolve_config
from specdsl.schema.spec import Item, LayerSpec, RepeatSpec, Spec, count_blocks, expand

#: Bytes per element of the dtypes an estimate can assume.
DTYPE_BYTES = {"float32": 4, "float64": 8, "bfloat16": 2, "float16": 2}
#: Most blocks an ``expand=True`` estimate lists one by one.
EXPAND_LIMIT = 10_000


def check_count(name: str, value: object, most: int | None = None) -> int:
    """``value`` as a positive int (at most ``most``), else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if most is not None and value > most:
        raise ValueError(f"{name} must be between 1 and {most}, got {value}")
    return value


def dims_for(batch_size: int, seq_len: int, hidden_dim: int, dtype: str = "float32") -> Dims:
    """The :class:`Dims` of an estimate; ``dtype`` is a name in :data:`DTYPE_BYTES`."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    return Dims(batch_size, seq_len, hidden_dim, DTYPE_BYTES[dtype])


#: A pattern item's resolved mixer config, child configs, FFN width and dropout.
Resolved = tuple[LayerConfig, tuple[LayerConfig, ...], int, float]


@dataclass(frozen=True)
class PlannedItem:
    """One pattern item, resolved once: its configs, FFN width and repeat multiplicity."""

    index: int  # block index of its first occurrence
    count: int  # product of the enclosing repeats
    group: str | None  # innermost repeat id
    layer: LayerSpec
    label: str
    config: LayerConfig
    children: tuple[LayerConfig, ...]
    ffn_hidden_dim: int
    dropout: float  # the block's dropout probability
    positional: str  # the model's positional encoding, for layers that apply it

    def mixer_cost(self, config: LayerConfig, dims: Dims) -> Cost:
        """A token mixer's own cost, plus rotary/ALiBi when it applies them to its scores."""
        cost = config.cost(dims)
        if self.positional in type(config).entry.positions:
            heads = getattr(config, "num_heads", 1)
            cost = cost + score_position_cost(dims, self.positional, heads)
        return cost

    def cost(self, dims: Dims) -> Cost:
        """The whole block (norms, feed-forward, residuals and mixers), once."""
        if isinstance(self.config, BlockConfig):  # a composite: its children are the mixers
            children = [self.mixer_cost(child, dims) for child in self.children]
            return block_cost(self.config, dims, children, self.ffn_hidden_dim, self.dropout)
        mixer = self.mixer_cost(self.config, dims)
        return standard_block_cost(dims, mixer, self.ffn_hidden_dim, self.dropout)


class Plan:
    """A spec resolved for estimating at many batch sizes and lengths.

    Resolving layer configs is the slow part of an estimate; a plan does it once per
    distinct pattern item, after which :meth:`total` and :meth:`evaluate` are arithmetic.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        self.num_blocks = count_blocks(spec.layers)
        self._resolved: dict[str, Resolved] = {}
        self.items: list[PlannedItem] = list(self._walk(spec.layers, "", 1, 0, None))

    def _resolve(self, layer: LayerSpec) -> tuple[str, Resolved]:
        label = format_layer(layer)
        if label not in self._resolved:
            spec = self.spec
            children = tuple(resolve_config(spec, child) for child in layer.layers)
            options = block_options(spec, layer)
            ffn = options.ffn_hidden_dim or spec.ffn_dim
            dropout = spec.dropout if options.dropout is None else options.dropout
            self._resolved[label] = (resolve_config(spec, layer), children, ffn, dropout)
        return label, self._resolved[label]

    def _walk(
        self, items: list[Item], prefix: str, count: int, offset: int, group: str | None
    ) -> Iterator[PlannedItem]:
        for position, item in enumerate(items):
            if isinstance(item, RepeatSpec):
                repeat_id = f"{prefix}{position}"
                yield from self._walk(
                    item.layers, repeat_id + ".", count * item.repeat, offset, repeat_id
                )
                offset += item.repeat * count_blocks(item.layers)
                continue
            label, resolved = self._resolve(item)
            positional = self.spec.positional_encoding
            yield PlannedItem(offset, count, group, item, label, *resolved, positional)
            offset += 1

    def dims(self, batch_size: int, seq_len: int, dtype: str = "float32") -> Dims:
        return dims_for(batch_size, seq_len, self.spec.hidden_dim, dtype)

    def parts(self, dims: Dims) -> list[tuple[str, str, Cost]]:
        """``(type, label, cost)`` of the model-level parts that the model has."""
        spec = self.spec
        out = []
        if spec.vocab_size is not None:
            cost = embedding_cost(dims, spec.vocab_size)
            out.append(("embedding", f"embedding({spec.vocab_size})", cost))
        if spec.positional_encoding in ("sinusoidal", "learned"):
            cost = positional_cost(dims, spec.positional_encoding, spec.max_sequence_length)
            out.append(("positional", f"positional({spec.positional_encoding})", cost))
        if spec.dropout > 0:
            out.append(("dropout", f"dropout({spec.dropout})", dropout_cost(dims, spec.dropout)))
        out.append(("final_norm", "final_norm", final_norm_cost(dims)))
        out.append(("head", head_label(spec), head_cost(dims, spec.head, spec.vocab_size)))
        return out

    def block_costs(self, dims: Dims) -> list[Cost]:
        """One block of each planned item, in pattern order."""
        return [item.cost(dims) for item in self.items]

    def total(self, dims: Dims) -> Cost:
        """The whole model's cost at ``dims``."""
        return self._sum(self.block_costs(dims), self.parts(dims))

    def _sum(self, costs: list[Cost], parts: list[tuple[str, str, Cost]]) -> Cost:
        total = Cost(complexity="O(1)")
        for item, cost in zip(self.items, costs, strict=True):
            total = total + cost * item.count
        for _, _, cost in parts:
            total = total + cost
        return total

    def evaluate(
        self,
        batch_size: int = 1,
        seq_len: int | None = None,
        dtype: str = "float32",
        expand: bool = False,
    ) -> Estimate:
        """The :class:`Estimate` at one batch size and length (default: max_sequence_length)."""
        spec = self.spec
        check_count("batch_size", batch_size)
        n = check_count(
            "seq_len",
            spec.max_sequence_length if seq_len is None else seq_len,
            spec.max_sequence_length,
        )
        dims = self.dims(batch_size, n, dtype)
        costs, parts = self.block_costs(dims), self.parts(dims)
        rows = self._expanded_rows(costs) if expand else self._collapsed_rows(costs)
        total = self._sum(costs, parts)
        return Estimate(
            name=spec.name,
            batch_size=batch_size,
            seq_len=n,
            params=total.params,
            param_bytes=total.params * dims.dtype_bytes,
            activation_bytes=total.activation_bytes,
            flops=total.flops,
            matmul_flops=total.matmul_flops,
            other_flops=total.other_flops,
            complexity=total.complexity,
            layers=rows,
            num_blocks=self.num_blocks,
            dtype=dtype,
            max_sequence_length=spec.max_sequence_length,
            parts=[PartEstimate.of(cost, type=kind, label=label) for kind, label, cost in parts],
        )

    def _row(
        self, item: PlannedItem, cost: Cost, index: int, count: int, group: str | None
    ) -> BlockEstimate:
        return BlockEstimate.of(
            cost, index=index, type=item.layer.type, label=item.label, count=count, group=group
        )

    def _collapsed_rows(self, costs: list[Cost]) -> list[BlockEstimate]:
        return [
            self._row(item, cost, item.index, item.count, item.group)
            for item, cost in zip(self.items, costs, strict=True)
        ]

    def _expanded_rows(self, costs: list[Cost]) -> list[BlockEstimate]:
        if self.num_blocks > EXPAND_LIMIT:
            raise ValueError(
                f"expand lists every block, at most {EXPAND_LIMIT:,};"
                f" this model has {self.num_blocks:,}"
            )
        by_layer = {
            id(item.layer): (item, cost) for item, cost in zip(self.items, costs, strict=True)
        }
        rows = []
        for index, (layer, groups) in enumerate(expand(self.spec.layers)):
            item, cost = by_layer[id(layer)]
            rows.append(self._row(item, cost, index, 1, groups[-1][0] if groups else None))
        return rows


def head_label(spec: Spec) -> str:
    """``head classification(10, mean)``, ``head lm(tied)``, ``head none``."""
    head = spec.head
    if head.type in ("classification", "regression"):
        return f"head {head.type}({head.num_classes}, {head.pooling})"
    if head.type == "sequence":
        return f"head sequence({head.num_classes})"
    return (
        f"head lm({'tied' if head.tie_weights else spec.vocab_size})"
        if head.type == "lm"
        else "head none"
    )


def plan(spec: Spec | str | os.PathLike[str]) -> Plan:
    """Parse (if needed) and resolve a spec for estimating; raises SpecError like ``check``."""
    return Plan(spec if isinstance(spec, Spec) else parse(spec))


def estimate(
    spec: Spec | str | os.PathLike[str],
    batch_size: int = 1,
    seq_len: int | None = None,
    *,
    dtype: str = "float32",
    expand: bool = False,
) -> Estimate:
    """Parameters, FLOPs, activation memory and complexity of a spec, without building it.

    Parameters
    ----------
    spec : Spec, str or PathLike
        A validated spec, a spec file path, or spec text.
    batch_size : int
        Batch size ``B`` (positive).
    seq_len : int, optional
        Sequence length ``n``, from 1 to ``max_sequence_length`` (the default).
    dtype : {"float32", "bfloat16", "float16", "float64"}
        Element type for ``param_bytes`` and ``activation_bytes``.
    expand : bool
        List every block in ``layers`` (at most 10,000) instead of one row per pattern item.

    Returns
    -------
    Estimate
        Totals, per-block rows and the model-level parts (docs/estimates.md).

    Raises
    ------
    SpecError
        When the spec does not validate (the same problems ``specdsl check`` reports).
    ValueError
        When ``batch_size``, ``seq_len`` or ``dtype`` is out of range.

    Examples
    --------
    >>> est = estimate("layers: repeat 1000000 [fourier]\\nhidden_dim: 64", seq_len=128)
    >>> est.num_blocks, est.complexity
    (1000000, 'O(n log n)')
    """
    return plan(spec).evaluate(batch_size, seq_len, dtype=dtype, expand=expand)


__all__ = [
    "DTYPE_BYTES",
    "EXPAND_LIMIT",
    "Plan",
    "PlannedItem",
    "check_count",
    "dims_for",
    "estimate",
    "plan",
]
