"""From a layer as written to its validated config: the one place args are merged.

The merge order is: values the layer inherits from the model (``causal``), then the
spec's ``defaults`` for that layer type, then the layer's own arguments, then the
context fields that always come from the model (``hidden_dim``, sequence length).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from specdsl.errors import Problem, SpecError
from specdsl.library import REGISTRY, LayerConfig, LayerEntry
from specdsl.schema.spec import LayerSpec, Spec

INHERITED = ("causal",)  # model field -> layer field of the same name, unless the layer sets it


class BlockOptions(BaseModel):
    """Options every pattern item accepts, for its block rather than its mixer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ffn_hidden_dim: int | None = Field(default=None, gt=0)
    dropout: float | None = Field(default=None, ge=0.0, lt=1.0)
    norm_eps: float | None = Field(default=None, gt=0.0)


BLOCK_OPTIONS = tuple(BlockOptions.model_fields)


def allowed_args(entry: LayerEntry) -> list[str]:
    """Argument names a spec may give this layer (its config fields and block options)."""
    fields = [name for name in entry.config.model_fields if name not in entry.context]
    return fields + [name for name in BLOCK_OPTIONS if name not in fields]


def config_values(spec: Spec, entry: LayerEntry, args: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments for ``entry.config`` from the model, defaults and ``args``."""
    fields = entry.config.model_fields
    values: dict[str, Any] = {
        name: getattr(spec, name)
        for name in INHERITED
        if name in fields and name not in entry.context
    }
    values.update(spec.defaults.get(entry.name, {}))
    values.update(args)
    for option in BLOCK_OPTIONS:
        if option not in fields:
            values.pop(option, None)
    for field, model_field in entry.context.items():
        values[field] = getattr(spec, model_field)
    return values


def block_options(spec: Spec, layer: LayerSpec) -> BlockOptions:
    """The block options of one block, falling back to the defaults for its layer type."""
    merged = {**spec.defaults.get(layer.type, {}), **layer.args}
    return BlockOptions(**{k: v for k, v in merged.items() if k in BLOCK_OPTIONS})


def resolve_config(spec: Spec, layer: LayerSpec) -> LayerConfig:
    """Validate one layer of a spec into its config instance (raises SpecError)."""
    entry = REGISTRY.get(layer.type)
    if entry is None:
        raise SpecError(f"unknown layer {layer.type!r}")
    try:
        return entry.config.model_validate(config_values(spec, entry, layer.args))
    except ValidationError as err:
        raise SpecError([Problem(f"{layer.type}: {describe(e)}") for e in err.errors()]) from None


def describe(error: Any) -> str:
    """One pydantic error as ``field: message``."""
    loc = ".".join(str(part) for part in error.get("loc", ()))
    message = error.get("msg", "invalid value")
    message = message.removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message
