"""The layer catalogue, generated from the registry (so it cannot drift): rows, help, docs."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticUndefined

from specdsl.errors import SpecError, did_you_mean
from specdsl.library import REGISTRY, Dims, LayerEntry
from specdsl.schema.resolve import BLOCK_OPTIONS, resolve_config
from specdsl.schema.spec import LayerSpec, Spec


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    default: str
    doc: str


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "|".join(str(v) for v in typing.get_args(annotation))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "None")


def arguments(entry: LayerEntry) -> list[Argument]:
    """The arguments a spec may give a layer, in declaration order (context fields excluded)."""
    out = []
    for name, field in entry.config.model_fields.items():
        if name in entry.context:
            continue
        default = "required" if field.default is PydanticUndefined else repr(field.default)
        out.append(Argument(name, _type_name(field.annotation), default, field.description or ""))
    return out


def complexity(entry: LayerEntry) -> str:
    """The layer's complexity class, from its cost formula at a default model."""
    if entry.kind == "block":
        return "of its layers"
    layer = LayerSpec(type=entry.name)
    try:
        config = resolve_config(
            Spec(hidden_dim=2520, layers=[layer]), layer
        )  # 2520: divisible by 1..9
        return config.cost(Dims(batch=1, seq_len=256, hidden_dim=2520)).complexity
    except (SpecError, NotImplementedError):
        return "?"


_GENERIC = {"dropout", "norm_eps", "causal", "energy_tolerance", "use_bias"}


def key_args(entry: LayerEntry, limit: int = 3) -> str:
    """The arguments worth showing first: positional ones, then the layer's own."""
    names = list(entry.positional)
    names += [a.name for a in arguments(entry) if a.name not in _GENERIC and a.name not in names]
    return ", ".join(names[:limit])


def rows() -> list[dict[str, str]]:
    """One row per layer: name, family, complexity, key arguments, summary."""
    return [
        {
            "name": name,
            "family": entry.family,
            "complexity": complexity(entry),
            "key args": key_args(entry),
            "summary": entry.summary,
        }
        for name, entry in sorted(REGISTRY.items(), key=lambda item: (item[1].family, item[0]))
    ]


def lookup(name: str) -> LayerEntry:
    entry = REGISTRY.get(name)
    if entry is None:
        hint = did_you_mean(name, REGISTRY)
        raise ValueError(f"unknown layer {name!r}" + (f" ({hint})" if hint else ""))
    return entry


def explain(name: str) -> str:
    """Plain-text help for one layer: summary, math, reference, arguments."""
    entry = lookup(name)
    module = entry.module.rpartition(":")[2]
    lines = [f"{entry.name}  ({module}, config {entry.config.__name__}, family {entry.family})", ""]
    lines.append(entry.summary)
    if entry.math:
        lines.append(f"math:       {entry.math}")
    if entry.reference:
        lines.append(f"reference:  {entry.reference}")
    lines.append(f"complexity: {complexity(entry)}")
    lines.append(
        "causal:     "
        + ("supported (causal=true)" if entry.causal is None else f"no: {entry.causal}")
    )
    if entry.kind == "block":
        low, high = entry.children
        lines.append(f"takes {low}..{high} token mixers as positional arguments")
    elif entry.positional:
        lines.append(f"positional: {', '.join(entry.positional)}")
    lines.append("")
    lines.append("arguments:")
    for arg in arguments(entry):
        doc = f"  {arg.doc}" if arg.doc else ""
        lines.append(f"  {arg.name:<24} {arg.type:<28} = {arg.default}{doc}")
    lines.append(f"  block options: {', '.join(BLOCK_OPTIONS)}")
    if entry.context:
        lines.append(
            f"  from the model: {', '.join(f'{k} <- {v}' for k, v in entry.context.items())}"
        )
    return "\n".join(lines)


def markdown() -> str:
    """docs/layers.md: the whole catalogue (regenerate with ``python -m specdsl.catalogue``)."""
    out = [
        "# Layer catalogue",
        "",
        "Generated from the registry by `python -m specdsl.catalogue > docs/layers.md`;",
        "a test checks it is up to date.",
        "",
        "| layer | family | complexity | key args | summary |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| `{r['name']}` | {r['family']} | {r['complexity']} | {r['key args']} | {r['summary']} |"
        for r in rows()
    ]
    for name in sorted(REGISTRY):
        out += ["", f"## `{name}`", "", "```text", explain(name), "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
