"""The YAML front end: PyYAML's composer -> located nodes, with no object construction.

Only the YAML core tags (str, int, float, bool, null, map, seq) are accepted, so a
``!!python/object`` tag is an error, not code; duplicate keys are errors too.
"""

from __future__ import annotations

import bisect

import yaml

from specdsl.errors import Problem, SpecError
from specdsl.language.nodes import Mapping, Node, Pos, Scalar, Sequence, SourceMap, line_starts

_CORE = "tag:yaml.org,2002:"
#: How far past the previous line's text a line of a multi-line scalar is looked for in its
#: value (blank lines and escapes shift it; a bound keeps pathological inputs linear).
_SEARCH = 1024
_SCALAR_KINDS = {"str": "string", "int": "int", "float": "float", "bool": "bool", "null": "null"}


class _Lines:
    """Character offset -> 1-based line:column, counting only ``\\n`` as a line break.

    PyYAML also breaks lines at ``\\r``, NEL and the Unicode separators; positions are
    reported the way editors and ``str.split("\\n")`` count them instead.
    """

    def __init__(self, text: str):
        self.text = text
        self.starts = line_starts(text)

    def pos(self, mark: yaml.Mark | None) -> Pos:
        return Pos() if mark is None else self.at(mark.index)

    def at(self, index: int) -> Pos:
        line = bisect.bisect_right(self.starts, index)
        return Pos(line, index - self.starts[line - 1] + 1)

    def source_map(self, node: yaml.ScalarNode, value: str) -> SourceMap | None:
        """A :class:`SourceMap` of a string scalar written over several lines, else None.

        Each source line's text (indentation and quotes stripped) is looked for in the
        value just after the previous one (within :data:`_SEARCH` characters, so the scan
        stays linear); a line that is not there verbatim (escapes in a quoted scalar) is
        taken to start one character (the folding space) after the line before.
        """
        begin, end = node.start_mark.index, node.end_mark.index
        if "\n" not in self.text[begin:end].rstrip("\n"):
            return None
        if node.style in ("|", ">"):  # the value starts on the line after the indicator
            begin = self.text.index("\n", begin) + 1
        offsets: list[int] = []
        places: list[Pos] = []
        found = 0
        for line in range(bisect.bisect_right(self.starts, begin), len(self.starts) + 1):
            first = max(begin, self.starts[line - 1])
            if first >= end:
                break
            last = min(end, self.starts[line] - 1 if line < len(self.starts) else end)
            piece = self.text[first:last].strip(" \t\r\"'")
            if not piece:
                continue
            offset = value.find(piece, found, found + len(piece) + _SEARCH)
            if offset >= 0:
                found = offset + len(piece)
            else:  # escapes changed the line: guess it starts after the folding space
                offset = found = min(found + 1 if offsets else 0, len(value))
            offsets.append(offset)
            places.append(self.at(self.text.index(piece, first)))
        return SourceMap(tuple(offsets), tuple(places)) if offsets else None


class _Reader:
    def __init__(self, file: str, lines: _Lines):
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")
        self._seen: set[int] = set()

    def problem(self, message: str, pos: Pos, hint: str | None = None) -> None:
        self.problems.append(Problem(message, pos.line, pos.column, self.file, hint))

    def convert(self, node: yaml.Node) -> Node:
        pos = self.lines.pos(node.start_mark)
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
        source = self.lines.source_map(node, value) if kind == "string" else None
        return Scalar(value, pos, kind, source)

    def _mapping(self, node: yaml.MappingNode, pos: Pos) -> Mapping:
        mapping = Mapping(pos=pos)
        for key_node, value_node in node.value:
            key_pos = self.lines.pos(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _CORE + "merge":
                self.problem("mapping keys must be plain names", key_pos)
                continue
            key = str(key_node.value)
            if key in mapping.entries:
                first = mapping.entries[key][0]
                self.problem(f"duplicate key {key!r}", key_pos, f"first given at line {first.line}")
                continue
            mapping.entries[key] = (key_pos, self.convert(value_node))
        return mapping


def read_yaml(text: str, file: str = "<spec>") -> Node:
    """Parse YAML text into located nodes; raise SpecError on any problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise SpecError([Problem("YAML nesting is too deep", file=file)]) from None
    except yaml.MarkedYAMLError as err:
        pos = _Lines(text).pos(err.problem_mark or err.context_mark)
        message = f"YAML syntax error: {err.problem or err.context}"
        raise SpecError([Problem(message, pos.line, pos.column, file)]) from None
    except yaml.YAMLError as err:
        raise SpecError([Problem(f"YAML error: {err}", file=file)]) from None
    if root is None:
        raise SpecError([Problem("empty spec", file=file)])
    reader = _Reader(file, _Lines(text))
    try:
        node = reader.convert(root)
    except RecursionError:
        raise SpecError([Problem("YAML nesting is too deep", file=file)]) from None
    if reader.problems:
        raise SpecError(reader.problems)
    return node
