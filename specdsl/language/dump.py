"""Spec -> text: the canonical YAML and ``.sdsl`` forms (``parse(dump(s)) == s``)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from specdsl.schema.spec import HeadSpec, Item, LayerSpec, RepeatSpec, Spec

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_KEYWORDS = {"true", "false", "repeat", "model", "layers", "none", "null"}


def format_value(value: Any) -> str:
    """A value in pattern syntax: bare names stay bare, other strings are quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return value if _BARE.match(value) and value not in _KEYWORDS else json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if value is None:
        return "null"
    raise TypeError(f"cannot write {value!r} in a spec")


def format_layer(layer: LayerSpec) -> str:
    """``name(child, ..., key=value, ...)``; a bare name when there are no arguments."""
    parts = [format_layer(child) for child in layer.layers]
    parts += [f"{key}={format_value(value)}" for key, value in layer.args.items()]
    return f"{layer.type}({', '.join(parts)})" if parts else layer.type


def format_pattern(items: list[Item]) -> str:
    """The pattern language text of a list of items."""
    return ", ".join(
        f"repeat {item.repeat} [{format_pattern(item.layers)}]"
        if isinstance(item, RepeatSpec)
        else format_layer(item)
        for item in items
    )


def _fields(spec: Spec) -> dict[str, Any]:
    """Model-level fields that differ from their defaults, in declaration order."""
    data = spec.model_dump(exclude_defaults=True, exclude={"layers", "head", "defaults"})
    if "name" not in data:
        data = {"name": spec.name, **data}
    return data


def _head_args(head: HeadSpec) -> dict[str, Any]:
    return head.model_dump(exclude_defaults=True, exclude={"type"})


def to_yaml(spec: Spec) -> str:
    """Canonical YAML: changed fields, head, defaults, then ``layers`` as a pattern string."""
    data: dict[str, Any] = _fields(spec)
    if spec.head != HeadSpec():
        data["head"] = {"type": spec.head.type, **_head_args(spec.head)}
    if spec.defaults:
        data["defaults"] = {name: dict(args) for name, args in spec.defaults.items()}
    data["layers"] = format_pattern(spec.layers)
    # Block style at the top level, flow style inside (head: {type: lm}); never fold.
    return "".join(
        yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=None, width=10**9)
        if isinstance(value, dict)
        else yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False, width=10**9)
        for key, value in data.items()
    )


def to_sdsl(spec: Spec) -> str:
    """Canonical text form ``model NAME { ... }``."""
    lines = [f"model {format_value(spec.name)} {{"]
    for key, value in _fields(spec).items():
        if key != "name":
            lines.append(f"  {key} = {format_value(value)}")
    if spec.head != HeadSpec():
        lines.append(
            f"  head = {format_layer(LayerSpec(type=spec.head.type, args=_head_args(spec.head)))}"
        )
    if spec.defaults:
        calls = [
            format_layer(LayerSpec(type=name, args=args)) for name, args in spec.defaults.items()
        ]
        lines.append(f"  defaults = [{', '.join(calls)}]")
    lines.append(f"  layers = {format_pattern(spec.layers)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dump(spec: Spec, format: str = "yaml") -> str:
    """Write ``spec`` as ``"yaml"`` or ``"sdsl"`` text."""
    if format == "yaml":
        return to_yaml(spec)
    if format == "sdsl":
        return to_sdsl(spec)
    raise ValueError(f"format must be 'yaml' or 'sdsl', got {format!r}")
