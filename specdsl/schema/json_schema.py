"""JSON Schema of spec files, for editors (``# yaml-language-server: $schema=...``).

Generated from the pydantic models and the registry: every layer name, its arguments
with types, enums, defaults and descriptions.
"""

from __future__ import annotations

from typing import Any

from specdsl.library import REGISTRY
from specdsl.schema.resolve import BlockOptions
from specdsl.schema.spec import HeadSpec, Spec

_PATTERN_STRING = {
    "type": "string",
    "description": "a layer pattern, e.g. 'repeat 6 [fourier, lst(dct)]'",
}


def _layer_args(name: str) -> dict[str, Any]:
    entry = REGISTRY[name]
    schema = entry.config.model_json_schema()
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in entry.context}
    for option, field in BlockOptions.model_json_schema()["properties"].items():
        properties.setdefault(option, field)
    if entry.kind == "block":
        properties["layers"] = {"type": "array", "items": {"$ref": "#/$defs/layer"}}
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "$defs": schema.get("$defs", {}),
    }


def _layer_item(name: str) -> dict[str, Any]:
    entry = REGISTRY[name]
    args = _layer_args(name)
    defs = args.pop("$defs")
    value = {
        "anyOf": [
            {"type": "null"},
            args,
            {"type": "array"},
            {"type": ["string", "number", "boolean"]},
        ]
    }
    return {
        "type": "object",
        "description": f"{entry.summary} ({entry.math})" if entry.math else entry.summary,
        "properties": {name: value},
        "required": [name],
        "additionalProperties": False,
        "$defs": defs,
    }


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every valid YAML spec satisfies."""
    base = Spec.model_json_schema()
    properties = {
        k: v for k, v in base["properties"].items() if k not in ("layers", "head", "defaults")
    }
    defs: dict[str, Any] = {}
    layer_items = []
    for name in sorted(REGISTRY):
        item = _layer_item(name)
        defs.update(item.pop("$defs"))
        defs[f"layer_{name}"] = item
        layer_items.append({"$ref": f"#/$defs/layer_{name}"})
    names = sorted(REGISTRY)
    defs["layer"] = {"anyOf": [_PATTERN_STRING, *layer_items]}
    defs["repeat"] = {
        "type": "object",
        "properties": {
            "repeat": {"type": "integer", "minimum": 1},
            "layers": {"$ref": "#/$defs/layers"},
        },
        "required": ["repeat", "layers"],
        "additionalProperties": False,
    }
    defs["layers"] = {
        "anyOf": [
            _PATTERN_STRING,
            {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [{"$ref": "#/$defs/repeat"}, {"$ref": "#/$defs/layer"}]},
            },
        ]
    }
    head = HeadSpec.model_json_schema()
    properties["head"] = {
        "anyOf": [{"type": "string", "enum": list(head["properties"]["type"]["enum"])}, head]
    }
    properties["defaults"] = {
        "type": "object",
        "propertyNames": {"enum": names},
        "additionalProperties": {"type": "object"},
        "properties": {name: _strip_defs(_layer_args(name), defs) for name in names},
    }
    properties["layers"] = {
        "$ref": "#/$defs/layers",
        "description": "the layer pattern (SPEC.md §3)",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "specdsl spec",
        "type": "object",
        "properties": properties,
        "required": ["layers"],
        "additionalProperties": False,
        "$defs": {**base.get("$defs", {}), **defs},
    }


def _strip_defs(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    defs.update(schema.pop("$defs", {}))
    return schema
