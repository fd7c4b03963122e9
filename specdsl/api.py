"""The Python API: parse, load, compile, to_graph, dump (torch is imported only to compile)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from specdsl.errors import Problem, SpecError
from specdsl.language.nodes import Call, Mapping, Node, Pos, Scalar
from specdsl.language.text import check_size, parse_model_text
from specdsl.language.yaml_source import read_yaml
from specdsl.schema.spec import Spec
from specdsl.schema.validate import head_mapping, validate_nodes

if TYPE_CHECKING:
    import networkx as nx

    from specdsl.compiler import CompiledModel

SPEC_SUFFIXES = (".yaml", ".yml", ".sdsl")
_OVERRIDE_POS = Pos(1, 1)


def read_source(source: str | os.PathLike[str]) -> tuple[str, str, str]:
    """Return ``(text, file name, format)`` for a path or a string of spec text."""
    path = Path(source) if isinstance(source, os.PathLike) else None
    if (
        path is None
        and isinstance(source, str)
        and "\n" not in source
        and source.endswith(SPEC_SUFFIXES)
    ):
        path = Path(source)
    if path is None:
        text = str(source)
        return text, "<spec>", _sniff(text)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise SpecError([Problem(f"cannot read spec: {err.strerror}", file=str(path))]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        column = err.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError(
            [Problem(f"invalid UTF-8 (byte 0x{raw[err.start]:02x})", line, column, str(path))]
        ) from None
    fmt = (
        "sdsl"
        if path.suffix == ".sdsl"
        else "yaml"
        if path.suffix in (".yaml", ".yml")
        else _sniff(text)
    )
    return text, str(path), fmt


def _sniff(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return "sdsl" if stripped.startswith("model ") or stripped == "model" else "yaml"
    return "yaml"


def _fields(text: str, file: str, fmt: str) -> tuple[Node, tuple[str, Pos] | None]:
    if not text.strip():
        raise SpecError([Problem("empty spec", file=file)])
    check_size(text, file)
    if fmt == "sdsl":
        name, name_pos, fields = parse_model_text(text, file)
        mapping = Mapping(pos=Pos())
        problems = []
        for key, pos, node in fields:
            if key in mapping.entries:
                first = mapping.entries[key][0].line
                problems.append(
                    Problem(
                        f"duplicate field {key!r}",
                        pos.line,
                        pos.column,
                        file,
                        f"first given at line {first}",
                    )
                )
            mapping.entries[key] = (pos, node)
        if problems:
            raise SpecError(problems)
        mapping.entries["name"] = (name_pos, Scalar(name, name_pos))
        return mapping, (name, name_pos)
    return read_yaml(text, file), None


def _override_node(value: Any) -> Node:
    if isinstance(value, str):
        with contextlib.suppress(yaml.YAMLError):
            value = yaml.safe_load(value) if value.strip() else value
    if isinstance(value, dict):
        mapping = Mapping(pos=_OVERRIDE_POS)
        for key, item in value.items():
            mapping.entries[str(key)] = (_OVERRIDE_POS, _override_node(item))
        return mapping
    kind = {bool: "bool", int: "int", float: "float", type(None): "null"}.get(type(value), "string")
    return Scalar(value if kind != "string" else str(value), _OVERRIDE_POS, kind)


def apply_overrides(root: Mapping, overrides: dict[str, Any]) -> None:
    """Set dotted keys (``head.num_classes``) on the parsed fields before validation.

    String values are read as YAML scalars, so ``"512"`` is an int and ``"true"`` a bool.
    """
    for dotted, value in overrides.items():
        *parents, last = str(dotted).split(".")
        target: Mapping = root
        for part in parents:
            node = target.entries.get(part, (_OVERRIDE_POS, None))[1]
            if isinstance(node, Call):  # text form: head = classification(...)
                node = head_mapping(node)
            elif isinstance(node, Scalar) and isinstance(node.value, str) and part == "head":
                node = Mapping({"type": (node.pos, node)}, node.pos)
            if not isinstance(node, Mapping):
                node = Mapping(pos=_OVERRIDE_POS)
            target.entries[part] = (target.entries.get(part, (_OVERRIDE_POS, None))[0], node)
            target = node
        target.entries[last] = (_OVERRIDE_POS, _override_node(value))


def parse(source: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Spec:
    """Parse and validate a spec from a file path or a string of spec text.

    Parameters
    ----------
    source : str or PathLike
        A ``.yaml``/``.yml``/``.sdsl`` path, or spec text (YAML, or ``model NAME {...}``).
    overrides : dict, optional
        Dotted keys to set before validation, e.g. ``{"hidden_dim": 512}``.

    Returns
    -------
    Spec
        The validated spec.

    Raises
    ------
    SpecError
        With every problem found, each located at ``file:line:column``.

    Examples
    --------
    >>> spec = parse("layers: repeat 2 [fourier, attention]\\nhidden_dim: 64")
    >>> [layer.type for layer in spec.layers[0].layers]
    ['fourier', 'attention']
    """
    if isinstance(source, Spec):
        return source
    text, file, fmt = read_source(source)
    root, _ = _fields(text, file, fmt)
    if overrides and isinstance(root, Mapping):  # other roots fail validation anyway
        apply_overrides(root, overrides)
    return validate_nodes(root, file)


def compile(
    spec: Spec | str | os.PathLike[str], seed: int | None = None, **limits: Any
) -> CompiledModel:
    """Compile a spec (or a path/text, parsed first) into a ``torch.nn.Module``.

    Weights depend only on the spec and ``seed`` (default: ``spec.seed``, else 0).
    """
    from specdsl.guard import check_limits

    spec = spec if isinstance(spec, Spec) else parse(spec)
    check_limits(spec, **limits)  # before torch is even imported
    from specdsl.compiler import compile_spec

    return compile_spec(spec, seed=seed)


def load(
    source: str | os.PathLike[str],
    overrides: dict[str, Any] | None = None,
    seed: int | None = None,
    **limits: Any,
) -> CompiledModel:
    """Parse, validate and compile a spec file or text; ``.pt`` files restore saved models.

    Examples
    --------
    >>> model = load("layers: fourier\\nhidden_dim: 32\\nmax_sequence_length: 64")
    >>> type(model).__name__
    'CompiledModel'
    """
    if str(source).endswith(".pt"):
        from specdsl.saving import load_saved

        return load_saved(source, **limits)
    return compile(parse(source, overrides=overrides), seed=seed, **limits)


def to_graph(spec: Spec | str | os.PathLike[str]) -> nx.DiGraph:
    """The architecture graph of a spec (see :func:`specdsl.graph.to_graph`)."""
    from specdsl.graph import to_graph as build

    return build(spec if isinstance(spec, Spec) else parse(spec))
