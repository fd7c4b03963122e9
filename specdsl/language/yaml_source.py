"""The YAML front end: PyYAML's composer -> located nodes, with no object construction.

Only the YAML core tags (str, int, float, bool, null, map, seq) are accepted, so a
``!!python/object`` tag is an error, not code; duplicate keys are errors too.
"""

from __future__ import annotations

import yaml

from specdsl.errors import Problem, SpecError
from specdsl.language.nodes import Mapping, Node, Pos, Scalar, Sequence

_CORE = "tag:yaml.org,2002:"
_SCALAR_KINDS = {"str": "string", "int": "int", "float": "float", "bool": "bool", "null": "null"}


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")
        self._seen: set[int] = set()

    def problem(self, message: str, pos: Pos, hint: str | None = None) -> None:
        self.problems.append(Problem(message, pos.line, pos.column, self.file, hint))

    def convert(self, node: yaml.Node) -> Node:
        pos = _pos(node)
        if id(node) in self._seen:
            self.problem("YAML aliases (*name) are not allowed", pos, "write the value out")
            return Scalar(None, pos, "null")
        self._seen.add(id(node))
        tag = node.tag or ""
        short = tag[len(_CORE) :] if tag.startswith(_CORE) else None
        if isinstance(node, yaml.MappingNode) and short == "map":
            return self._mapping(node, pos)
        if isinstance(node, yaml.SequenceNode) and short == "seq":
            return Sequence([self.convert(item) for item in node.value], pos)
        kind = _SCALAR_KINDS.get(short or "")
        if kind is None or not isinstance(node, yaml.ScalarNode):
            shown = "!!" + short if short else tag
            self.problem(f"YAML tag {shown!r} is not allowed", pos, "specs are plain data")
            return Scalar(None, pos, "null")
        value = self._constructor.construct_object(node)
        if kind == "string" and node.style in ("'", '"'):
            pos = Pos(pos.line, pos.column + 1)  # where the text itself starts
        elif kind == "string" and node.style in ("|", ">"):
            pos = Pos(pos.line + 1, pos.column + 2)
        return Scalar(value, pos, kind)

    def _mapping(self, node: yaml.MappingNode, pos: Pos) -> Mapping:
        mapping = Mapping(pos=pos)
        for key_node, value_node in node.value:
            key_pos = _pos(key_node)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _CORE + "merge":
                self.problem("mapping keys must be plain names", key_pos)
                continue
            key = str(key_node.value)
            if key in mapping.entries:
                first = mapping.entries[key][0]
                self.problem(
                    f"duplicate key {key!r}", key_pos, f"first given at line {first.line}"
                )
                continue
            mapping.entries[key] = (key_pos, self.convert(value_node))
        return mapping


def read_yaml(text: str, file: str = "<spec>") -> Node:
    """Parse YAML text into located nodes; raise SpecError on any problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {err.problem or err.context}"
        raise SpecError([Problem(message, line, column, file)]) from None
    except yaml.YAMLError as err:
        raise SpecError([Problem(f"YAML error: {err}", file=file)]) from None
    if root is None:
        raise SpecError([Problem("empty spec", file=file)])
    reader = _Reader(file)
    node = reader.convert(root)
    if reader.problems:
        raise SpecError(reader.problems)
    return node

