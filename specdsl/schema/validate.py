"""Located nodes -> a validated :class:`Spec`, reporting every problem in one pass."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from specdsl.errors import Problem, SpecError, did_you_mean
from specdsl.language.nodes import Arg, Call, Mapping, Node, Pos, Repeat, Scalar, Sequence, plain
from specdsl.language.text import parse_pattern
from specdsl.library import REGISTRY, LayerEntry
from specdsl.schema.resolve import (
    BLOCK_OPTIONS,
    BlockOptions,
    allowed_args,
    config_values,
    describe,
)
from specdsl.schema.spec import HeadSpec, Item, LayerSpec, RepeatSpec, Spec

_NULLABLE = {"vocab_size", "ffn_hidden_dim", "seed"}


class _Validator:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, message: str, pos: Pos, hint: str | None = None) -> None:
        self.problems.append(Problem(message, pos.line, pos.column, self.file, hint))

    # -- model-level fields -------------------------------------------------------------

    def spec(self, fields: dict[str, tuple[Pos, Node]], name: tuple[str, Pos] | None) -> Spec:
        known = set(Spec.model_fields)
        positions: dict[tuple[str, ...], Pos] = {}
        data: dict[str, Any] = {}
        if name is not None:
            data["name"], positions[("name",)] = name
        for key, (key_pos, node) in fields.items():
            if key not in known:
                self.problem(f"unknown field {key!r}", key_pos, did_you_mean(key, known))
                continue
            positions[(key,)] = node.pos
            if key == "head":
                data[key] = self.head(node, positions)
            elif key == "defaults":
                data[key] = self.defaults(node)
            elif key != "layers":
                data[key] = self.value(node, nullable=key in _NULLABLE)
        if "layers" not in fields:
            self.problem("missing field 'layers'", Pos(), 'add e.g. layers: "repeat 6 [fourier]"')
        model = self.model_fields(data, positions)
        if "layers" in fields:
            key_pos, node = fields["layers"]
            items = self.items(self.layer_nodes(node), model)
            if items:
                model = self.finish(model, items, key_pos)
        if self.problems:
            raise SpecError(self.problems)
        return model

    def model_fields(self, data: dict[str, Any], positions: dict[tuple[str, ...], Pos]) -> Spec:
        """Validate the model-level fields; on errors, fall back to the valid ones.

        The fallback lets the layers be checked in the same pass.
        """
        placeholder: list[Item] = [LayerSpec(type="__placeholder__")]
        try:
            return Spec.model_validate({**data, "layers": placeholder})
        except ValidationError as err:
            bad: set[str] = set()
            for error in err.errors():
                loc = tuple(str(part) for part in error["loc"])
                bad.add(loc[0] if loc else "head")
                pos = (
                    positions.get(loc[:2])
                    or positions.get(loc[:1])
                    or positions.get(("head",), Pos())
                )
                self.problem(describe(error), pos, self.enum_hint(error))
        valid = {key: value for key, value in data.items() if key not in bad}
        try:
            return Spec.model_validate({**valid, "layers": placeholder})
        except ValidationError:
            return Spec(layers=placeholder)

    def finish(self, model: Spec, items: list[Item], layers_pos: Pos) -> Spec:
        spec = model.model_copy(update={"layers": items})
        self.check_positional(spec, layers_pos)
        return spec

    def check_positional(self, spec: Spec, pos: Pos) -> None:
        kind = spec.positional_encoding
        if kind not in ("rotary", "alibi"):
            return
        types = {layer.type for layer, _ in _layers(spec.layers)}
        if not any(kind in REGISTRY[t].positions for t in types if t in REGISTRY):
            able = sorted(n for n, e in REGISTRY.items() if kind in e.positions)
            self.problem(
                f"positional_encoding {kind} acts inside attention scores, and no layer of this"
                f" model has them ({', '.join(sorted(types))})",
                pos,
                f"use it with {', '.join(able)}, or choose sinusoidal/learned" if able else None,
            )

    def value(self, node: Node, nullable: bool = False) -> Any:
        if isinstance(node, Call) and node.args is not None:
            self.problem(f"expected a value, got a call of {node.name!r}", node.pos)
            return None
        if isinstance(node, Repeat):
            self.problem("expected a value, got a repeat", node.pos)
            return None
        value = plain(node)
        if nullable and isinstance(node, Call) and value in ("none", "null"):
            return None
        return value

    def head(self, node: Node, positions: dict[tuple[str, ...], Pos]) -> Any:
        if isinstance(node, Scalar):
            return {"type": node.value}
        if isinstance(node, Call):
            node = head_mapping(node)
        if isinstance(node, Mapping):
            data: dict[str, Any] = {}
            for key, (key_pos, value) in node.entries.items():
                positions[("head", key)] = key_pos
                data[key] = self.value(value, nullable=True)
            return data
        self.problem("head must be a type name, a mapping or a call", node.pos)
        return None

    def defaults(self, node: Node) -> dict[str, dict[str, Any]]:
        calls: list[Call] = []
        if isinstance(node, Mapping):
            for key, (key_pos, value) in node.entries.items():
                calls.append(self.mapping_call(key, key_pos, value))
        elif isinstance(node, Sequence) and all(isinstance(i, Call) for i in node.items):
            calls = list(node.items)  # type: ignore[arg-type]
        else:
            self.problem("defaults must map layer names to arguments", node.pos)
        out: dict[str, dict[str, Any]] = {}
        for call in calls:
            entry = self.entry(call)
            if entry is not None:
                out[call.name] = self.args(entry, call)[0]
        return out

    def enum_hint(self, error: Any) -> str | None:
        if error.get("type") != "literal_error":
            return None
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        return did_you_mean(str(error.get("input")), expected)

    # -- layers -----------------------------------------------------------------------

    def layer_nodes(self, node: Node) -> list[Node]:
        """The items of a ``layers`` field, whatever form it was written in."""
        if isinstance(node, Scalar) and isinstance(node.value, str):
            return self.pattern(node)
        if isinstance(node, Sequence):
            out: list[Node] = []
            for item in node.items:
                out.extend(
                    self.layer_nodes(item)
                    if not isinstance(item, Mapping)
                    else [self.structured(item)]
                )
            return out
        if isinstance(node, (Call, Repeat)):
            return [node]
        if isinstance(node, Mapping):
            return [self.structured(node)]
        self.problem("layers must be a pattern string or a list of layers", node.pos)
        return []

    def pattern(self, node: Scalar) -> list[Node]:
        try:
            return parse_pattern(node.value, node.pos, self.file, node.source)
        except SpecError as err:
            self.problems.extend(err.problems)
            return []

    def structured(self, node: Mapping) -> Node:
        """A YAML mapping item: ``{repeat: N, layers: [...]}`` or ``{lst: {...}}``."""
        entries = node.entries
        if "repeat" in entries:
            count_pos, count = entries["repeat"]
            extra = set(entries) - {"repeat", "layers"}
            for key in extra:
                self.problem(
                    f"unknown key {key!r} in a repeat", entries[key][0], "use repeat and layers"
                )
            if "layers" not in entries:
                self.problem("a repeat needs layers", node.pos)
                return Repeat(1, [], node.pos, count_pos)
            inner = self.layer_nodes(entries["layers"][1])
            if not (isinstance(count, Scalar) and count.kind == "int"):
                self.problem("repeat count must be an integer", count.pos)
                return Repeat(1, inner, node.pos, count.pos)
            return Repeat(count.value, inner, node.pos, count.pos)
        if len(entries) != 1:
            self.problem("a layer mapping has one key, the layer name", node.pos)
            return Call("__invalid__", node.pos, [])
        ((name, (key_pos, value)),) = entries.items()
        return self.mapping_call(name, key_pos, value)

    def mapping_call(self, name: str, pos: Pos, value: Node) -> Call:
        if isinstance(value, Mapping):
            args: list[Arg] = []
            for key, (arg_pos, arg) in value.entries.items():
                if key == "layers" and isinstance(arg, Sequence):
                    args.extend(Arg(None, self.as_layer(item), item.pos) for item in arg.items)
                else:
                    args.append(
                        Arg(key, self.as_layer(arg) if isinstance(arg, Mapping) else arg, arg_pos)
                    )
            return Call(name, pos, args)
        if isinstance(value, Sequence):
            return Call(
                name, pos, [Arg(None, self.as_layer(item), item.pos) for item in value.items]
            )
        if isinstance(value, Scalar) and value.value is None:
            return Call(name, pos, None)
        return Call(name, pos, [Arg(None, value, value.pos)])

    def as_layer(self, node: Node) -> Node:
        if isinstance(node, Mapping):
            return self.structured(node)
        if isinstance(node, Scalar) and isinstance(node.value, str) and "(" in node.value:
            nodes = self.pattern(node)
            return nodes[0] if len(nodes) == 1 else node
        if isinstance(node, Scalar) and isinstance(node.value, str):
            return Call(node.value, node.pos, None)
        return node

    def items(self, nodes: list[Node], model: Spec) -> list[Item]:
        out: list[Item] = []
        for node in nodes:
            if isinstance(node, Repeat):
                if node.count < 1:
                    self.problem(
                        f"repeat count must be at least 1, got {node.count}", node.count_pos
                    )
                    continue
                inner = self.items(node.items, model)
                if inner:
                    out.append(RepeatSpec(repeat=node.count, layers=inner))
            elif isinstance(node, Call):
                layer = self.layer(node, model)
                if layer is not None:
                    out.append(layer)
            else:
                self.problem("expected a layer", node.pos)
        return out

    def entry(self, call: Call) -> LayerEntry | None:
        entry = REGISTRY.get(call.name)
        if entry is None:
            self.problem(
                f"unknown layer {call.name!r}", call.pos, did_you_mean(call.name, REGISTRY)
            )
        return entry

    def layer(self, call: Call, model: Spec) -> LayerSpec | None:
        entry = self.entry(call)
        if entry is None:
            return None
        args, children = self.args(entry, call, model)
        if entry.kind == "block":
            low, high = entry.children
            if not low <= len(children) <= high:
                wanted = str(low) if low == high else f"{low} to {high}"
                noun = "layer" if high == 1 else "layers"
                self.problem(f"{call.name} takes {wanted} {noun}, got {len(children)}", call.pos)
            layers = [child for child in children if child is not None]
        else:
            layers = []
        spec_layer = LayerSpec(type=call.name, args=args, layers=layers)
        self.check_config(entry, spec_layer, call, model)
        return spec_layer

    def args(
        self, entry: LayerEntry, call: Call, model: Spec | None = None
    ) -> tuple[dict[str, Any], list[LayerSpec | None]]:
        allowed = allowed_args(entry)
        out: dict[str, Any] = {}
        children: list[LayerSpec | None] = []
        positional = list(entry.positional)
        for arg in call.arg_list:
            if arg.name is None and entry.kind == "block" and isinstance(arg.value, Call):
                children.append(self.child(arg.value, model))
                continue
            if arg.name is None:
                if not positional:
                    self.problem(
                        f"{call.name} takes no more positional arguments",
                        arg.pos,
                        f"name it: one of {', '.join(allowed)}" if allowed else None,
                    )
                    continue
                name = positional.pop(0)
            else:
                name = arg.name
                if name in positional:
                    positional.remove(name)
            if name in entry.context:
                self.problem(
                    f"{name} is set by the model, not per layer",
                    arg.pos,
                    f"set {entry.context[name]} at model level",
                )
            elif name not in allowed:
                self.problem(
                    f"unknown argument {name!r} for layer {call.name!r}",
                    arg.pos,
                    did_you_mean(name, allowed),
                )
            elif name in out:
                self.problem(f"argument {name!r} given twice", arg.pos)
            else:
                out[name] = self.value(arg.value, nullable=True)
        return out, children

    def child(self, call: Call, model: Spec | None) -> LayerSpec | None:
        entry = self.entry(call)
        if entry is None or model is None:
            return None
        if entry.kind != "mixer":
            self.problem(f"{call.name} is a block; blocks take token mixers as arguments", call.pos)
            return None
        for arg in call.arg_list:
            if arg.name in BLOCK_OPTIONS and arg.name not in entry.config.model_fields:
                self.problem(
                    f"{arg.name} is a block option; inside a composite block it has no block",
                    arg.pos,
                    "give it to the composite block instead",
                )
        return self.layer(call, model)

    def check_config(self, entry: LayerEntry, layer: LayerSpec, call: Call, model: Spec) -> None:
        if model.causal and entry.causal is not None and entry.kind == "mixer":
            self.problem(f"layer {entry.name!r} cannot be causal: {entry.causal}", call.pos)
        arg_pos = {arg.name: arg.value.pos for arg in call.arg_list if arg.name}
        positional = iter(entry.positional)
        for arg in call.arg_list:
            if arg.name is None and not (entry.kind == "block" and isinstance(arg.value, Call)):
                arg_pos.setdefault(next(positional, ""), arg.pos)
        try:
            BlockOptions(**{k: v for k, v in layer.args.items() if k in BLOCK_OPTIONS})
            entry.config.model_validate(config_values(model, entry, layer.args))
        except ValidationError as err:
            for error in err.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                pos = arg_pos.get(field, call.pos)
                self.problem(f"{call.name}: {describe(error)}", pos, self.enum_hint(error))


def head_mapping(call: Call) -> Mapping:
    """The text form's ``head = classification(10, pooling=mean)`` as a head mapping.

    Positional arguments fill the head's fields in declaration order.
    """
    order = [name for name in HeadSpec.model_fields if name != "type"]
    mapping = Mapping({"type": (call.pos, Scalar(call.name, call.pos))}, call.pos)
    for index, arg in enumerate(call.arg_list):
        key = arg.name or (order[index] if index < len(order) else f"arg{index}")
        mapping.entries[key] = (arg.pos, arg.value)
    return mapping


def _layers(items: list[Item]) -> list[tuple[LayerSpec, int]]:
    out: list[tuple[LayerSpec, int]] = []
    for item in items:
        if isinstance(item, RepeatSpec):
            out.extend(_layers(item.layers))
        else:
            out.append((item, 0))
            out.extend((child, 1) for child in item.layers)
    return out


def validate_nodes(root: Node, file: str = "<spec>") -> Spec:
    """Validate a YAML root mapping into a Spec (raises SpecError with every problem)."""
    validator = _Validator(file)
    if not isinstance(root, Mapping):
        raise SpecError(
            [Problem("a spec must be a mapping of fields", root.pos.line, root.pos.column, file)]
        )
    return validator.spec(root.entries, None)
