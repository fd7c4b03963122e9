"""The layer registry: each layer type is declared once, with its schema, module and cost.

A registry entry is a pydantic config class decorated with :func:`register_layer`. The
class holds the documented constructor arguments (the schema) and the cost formula
(:meth:`LayerConfig.cost`); the decorator records the DSL name and the torch module,
named by import path so that validating and estimating never import torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

# Complexity classes in sequence length n, from cheapest to dearest.
COMPLEXITIES = ("O(1)", "O(n)", "O(n log n)", "O(n log^2 n)", "O(n^2)")


def max_complexity(classes: Iterable[str]) -> str:
    """The dominant (largest) of several complexity classes."""
    return max(classes, key=COMPLEXITIES.index, default="O(1)")


def log2(n: int) -> float:
    return math.log2(n) if n > 1 else 0.0


@dataclass(frozen=True)
class Dims:
    """The shape a cost is evaluated at: batch, sequence length, model width."""

    batch: int
    seq_len: int
    hidden_dim: int
    dtype_bytes: int = 4


@dataclass(frozen=True)
class Cost:
    """Parameters, forward FLOPs and activation memory of one module at given ``Dims``.

    ``matmul_flops`` counts matrix products as ``2*m*n*k`` (what
    ``torch.utils.flop_counter.FlopCounterMode`` measures); ``other_flops`` counts
    transforms and element-wise work by the formulas in docs/estimates.md.
    ``activation_bytes`` is the memory of tensors kept for the backward pass.
    """

    params: int = 0
    matmul_flops: int = 0
    other_flops: int = 0
    activation_bytes: int = 0
    complexity: str = "O(n)"

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.params + other.params,
            self.matmul_flops + other.matmul_flops,
            self.other_flops + other.other_flops,
            self.activation_bytes + other.activation_bytes,
            max_complexity((self.complexity, other.complexity)),
        )

    def __mul__(self, times: int) -> Cost:
        return Cost(
            self.params * times,
            self.matmul_flops * times,
            self.other_flops * times,
            self.activation_bytes * times,
            self.complexity,
        )

    @property
    def flops(self) -> int:
        return self.matmul_flops + self.other_flops


def linear_cost(
    dims: Dims, d_in: int, d_out: int, bias: bool = True, tokens: int | None = None
) -> Cost:
    """A ``nn.Linear(d_in, d_out)`` applied to every token."""
    rows = dims.batch * dims.seq_len if tokens is None else tokens
    return Cost(
        params=d_in * d_out + (d_out if bias else 0),
        matmul_flops=2 * rows * d_in * d_out,
        other_flops=0,
        activation_bytes=rows * d_in * dims.dtype_bytes,
        complexity="O(n)",
    )


def fft_flops(length: int, real: bool = False) -> int:
    """FLOPs of one FFT of ``length`` points: 5 N log2 N complex, 2.5 N log2 N real input."""
    return round((2.5 if real else 5.0) * length * log2(length))


class LayerConfig(BaseModel):
    """Base of every layer config: unknown arguments are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    #: Filled in by :func:`register_layer`.
    entry: ClassVar[LayerEntry]

    def cost(self, dims: Dims) -> Cost:
        """Cost of the token mixer alone at ``dims`` (no norms, no feed-forward)."""
        raise NotImplementedError(f"{type(self).__name__} has no cost formula")


@dataclass(frozen=True)
class LayerEntry:
    """Everything the pipeline knows about one DSL layer name."""

    name: str
    config: type[LayerConfig]
    module: str  # "package.module:ClassName", imported only when compiling
    family: str
    positional: tuple[str, ...] = ()
    context: dict[str, str] = field(default_factory=dict)  # config field -> Spec field
    summary: str = ""
    math: str = ""
    reference: str = ""
    causal: str | None = None  # None: can be made causal; else why it cannot
    positions: frozenset[str] = frozenset()  # rotary / alibi applied inside the layer
    kind: str = "mixer"  # "mixer" or "block" (a composite whose arguments are layers)
    children: tuple[int, int] = (0, 0)  # composite blocks: min and max number of layers

    def load_module(self) -> Any:
        """Import and return the torch module class (imports torch)."""
        from importlib import import_module

        module_name, _, class_name = self.module.partition(":")
        return getattr(import_module(module_name), class_name)


REGISTRY: dict[str, LayerEntry] = {}
_C = TypeVar("_C", bound=LayerConfig)


def register_layer(
    name: str,
    *,
    module: str,
    family: str,
    positional: tuple[str, ...] = (),
    context: dict[str, str] | None = None,
    summary: str = "",
    math: str = "",
    reference: str = "",
    causal: str | None = "the layer mixes every position with every other",
    positions: Iterable[str] = (),
    kind: str = "mixer",
    children: tuple[int, int] = (0, 0),
) -> Callable[[type[_C]], type[_C]]:
    """Class decorator declaring a layer: DSL ``name``, module path and metadata.

    ``context`` maps config fields filled from the model (default: ``hidden_dim``).
    ``causal`` is None when the layer supports ``causal=true``, else the reason it cannot.
    Returns the class unchanged.
    """

    def decorate(config: type[_C]) -> type[_C]:
        if name in REGISTRY:
            raise ValueError(f"layer {name!r} registered twice")
        fields = config.model_fields
        ctx = dict(context) if context is not None else {}
        if context is None and "hidden_dim" in fields:
            ctx["hidden_dim"] = "hidden_dim"
        entry = LayerEntry(
            name=name,
            config=config,
            module=module,
            family=family,
            positional=positional,
            context=ctx,
            summary=summary or (config.__doc__ or "").strip().split("\n")[0],
            math=math,
            reference=reference,
            causal=None if "causal" in fields else causal,
            positions=frozenset(positions),
            kind=kind,
            children=children,
        )
        config.entry = entry
        REGISTRY[name] = entry
        return config

    return decorate
