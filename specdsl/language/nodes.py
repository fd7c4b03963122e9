"""Located syntax nodes shared by the text and YAML front ends.

Both front ends turn a file into these nodes, so that validation is written once and
every value can be traced back to its ``line:column``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pos:
    """A 1-based ``line:column`` position."""

    line: int = 1
    column: int = 1


def line_starts(text: str) -> list[int]:
    """Offset of the first character of every line of ``text`` (only ``\\n`` breaks one)."""
    return [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]


@dataclass(frozen=True)
class SourceMap:
    """Where the characters of a string value spanning several lines of its file sit.

    A YAML scalar written over several lines reaches us folded (line breaks and
    indentation become one space) or without its indentation (``|`` blocks), so offsets
    into the value are not columns of its first line. One anchor per source line: value
    character ``offsets[i]`` is at ``places[i]``, and the characters after it follow on
    that line (``offsets`` ascending).
    """

    offsets: tuple[int, ...]
    places: tuple[Pos, ...]

    def locate(self, offset: int) -> Pos:
        """The file position of value character ``offset``."""
        index = max(bisect.bisect_right(self.offsets, offset) - 1, 0)
        pos = self.places[index]
        return Pos(pos.line, max(1, pos.column + offset - self.offsets[index]))


@dataclass
class Scalar:
    """A plain value: int, float, bool, None or a string (``kind`` says which).

    ``source`` maps a string's characters to the file when it spans several lines there.
    """

    value: Any
    pos: Pos
    kind: str = "string"  # int | float | bool | null | string
    source: SourceMap | None = None


@dataclass
class Arg:
    """A call argument, positional (``name`` is None) or keyword."""

    name: str | None
    value: Node
    pos: Pos


@dataclass
class Call:
    """``name`` or ``name(arg, key=value, ...)``; ``args`` is None without parentheses."""

    name: str
    pos: Pos
    args: list[Arg] | None = None

    @property
    def arg_list(self) -> list[Arg]:
        return self.args or []


@dataclass
class Repeat:
    """``repeat count [items]``."""

    count: int
    items: list[Node]
    pos: Pos
    count_pos: Pos


@dataclass
class Sequence:
    """A list of nodes (``[a, b]`` in text, a YAML sequence)."""

    items: list[Node]
    pos: Pos


@dataclass
class Mapping:
    """A YAML mapping: keys with their positions, in file order."""

    entries: dict[str, tuple[Pos, Node]] = field(default_factory=dict)
    pos: Pos = field(default_factory=Pos)


Node = Scalar | Call | Repeat | Sequence | Mapping


def plain(node: Node) -> Any:
    """The node as plain Python data (bare names become strings)."""
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Sequence):
        return [plain(item) for item in node.items]
    if isinstance(node, Mapping):
        return {key: plain(value) for key, (_, value) in node.entries.items()}
    if isinstance(node, Call) and node.args is None:
        return node.name
    raise TypeError(f"no plain value for {type(node).__name__}")
