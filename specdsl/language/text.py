"""The text front end: lark grammar -> located nodes."""

from __future__ import annotations

import builtins
from functools import cache
from importlib import resources

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from specdsl.errors import Problem, SpecError
from specdsl.language.nodes import (
    Arg,
    Call,
    Node,
    Pos,
    Repeat,
    Scalar,
    Sequence,
    SourceMap,
    line_starts,
)

MAX_SPEC_CHARS = 1_000_000  # a spec is a page of text; 1 MB is already absurd
MAX_NESTING = 64  # brackets/parentheses deep; keeps every later walk far from recursion limits

_TOKEN_NAMES = {
    "RSQB": "']'",
    "LSQB": "'['",
    "RPAR": "')'",
    "LPAR": "'('",
    "COMMA": "','",
    "RBRACE": "'}'",
    "LBRACE": "'{'",
    "EQUAL": "'='",
    "NAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "STRING": "a string",
    "REPEAT": "'repeat'",
    "LAYERS": "'layers'",
    "MODEL": "'model'",
    "BOOL": "true or false",
}


@cache
def _parser(start: str) -> Lark:
    grammar = resources.files("specdsl").joinpath("grammars/specdsl.lark").read_text()
    return Lark(grammar, start=start, parser="lalr", propagate_positions=True)


class _Locator:
    """Positions in a text (1-based ``line:column``) -> positions in its file.

    The text starts at ``origin``; with a ``source`` map (a YAML string written over
    several lines) every character is placed through it instead.
    """

    def __init__(self, text: str, origin: Pos, source: SourceMap | None = None):
        self.origin = origin
        self.source = source
        self.starts = line_starts(text) if source else []

    def __call__(self, line: int, column: int) -> Pos:
        if self.source is not None:
            start = self.starts[min(line, len(self.starts)) - 1]
            return self.source.locate(start + column - 1)
        if line == 1:
            column += self.origin.column - 1
        return Pos(line + self.origin.line - 1, column)


class _ToNodes(Transformer):
    """Turns the lark tree into located nodes (positions placed by ``locate``)."""

    def __init__(self, locate: _Locator):
        super().__init__()
        self.locate = locate
        self.origin = locate(1, 1)

    def _at(self, token: Token) -> Pos:
        return self.locate(token.line or 1, token.column or 1)

    def int(self, items: list[Token]) -> Scalar:
        return Scalar(int(items[0]), self._at(items[0]), "int")

    def float(self, items: list[Token]) -> Scalar:
        return Scalar(float(items[0]), self._at(items[0]), "float")

    def boolean(self, items: list[Token]) -> Scalar:
        return Scalar(str(items[0]) == "true", self._at(items[0]), "bool")

    def string(self, items: list[Token]) -> Scalar:
        raw = str(items[0])[1:-1]
        text = raw.encode("utf-8").decode("unicode_escape") if "\\" in raw else raw
        return Scalar(text, self._at(items[0]), "string")

    # The rule methods ``int``, ``float`` and ``list`` shadow the builtins in this class
    # body, so the annotations below them name ``builtins.list`` explicitly.
    def list(self, items: list[Node | None]) -> Sequence:
        values = [item for item in items if item is not None]
        pos = _node_pos(values[0]) if values else self.origin
        return Sequence(values, pos)

    def keyword(self, items: builtins.list) -> Arg:
        name, value = items
        return Arg(str(name), value, self._at(name))

    def call(self, items: builtins.list) -> Call:
        name, *rest = items
        args: list[Arg] | None = None
        if rest:
            args = [
                item if isinstance(item, Arg) else Arg(None, item, _node_pos(item))
                for item in rest
                if item is not None
            ]
        return Call(str(name), self._at(name), args)

    def repeat(self, items: builtins.list) -> Repeat:
        count, pattern = items
        pos = self._at(count)
        return Repeat(int(count), pattern, Pos(pos.line, max(1, pos.column - 7)), pos)

    def pattern(self, items: builtins.list[Node]) -> builtins.list[Node]:
        return list(items)

    def field(self, items: builtins.list) -> tuple[str, Pos, Node]:
        name, value = items
        return (str(name), self._at(name), value)

    def layers_field(self, items: builtins.list) -> tuple[str, Pos, Node]:
        (pattern,) = items
        pos = _node_pos(pattern[0]) if pattern else self.origin
        return ("layers", pos, Sequence(pattern, pos))

    def model(self, items: builtins.list) -> tuple[str, Pos, builtins.list[tuple[str, Pos, Node]]]:
        name, *fields = items
        text = str(name)
        if name.type == "STRING":
            text = text[1:-1]
        return (text, self._at(name), fields)


def _node_pos(node: Node | Arg) -> Pos:
    return node.pos


def check_size(text: str, file: str, locate: _Locator | None = None) -> None:
    """Refuse a text over :data:`MAX_SPEC_CHARS` or nested deeper than :data:`MAX_NESTING`
    (positions placed by ``locate``, default: the text is the whole file)."""
    locate = locate or _Locator(text, Pos())
    if len(text) > MAX_SPEC_CHARS:
        raise SpecError(
            [
                Problem(
                    f"spec is {len(text):,} characters; the limit is {MAX_SPEC_CHARS:,}", file=file
                )
            ]
        )
    depth = 0
    line = 1
    column = 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                pos = locate(line, column)
                message = f"nesting deeper than {MAX_NESTING} levels"
                raise SpecError([Problem(message, pos.line, pos.column, file)])
        elif char in ")]}":
            depth -= 1


def _syntax_error(err: UnexpectedInput, text: str, locate: _Locator, file: str) -> SpecError:
    expected = sorted(_TOKEN_NAMES.get(name, name) for name in getattr(err, "expected", ()) or ())
    wanted = f"; expected {', '.join(expected)}" if expected else ""
    at_end = (
        isinstance(err, UnexpectedEOF) or getattr(getattr(err, "token", None), "type", "") == "$END"
    )
    if at_end:  # point just past the last character
        body = text.rstrip()
        line = body.count("\n") + 1
        column = len(body.rsplit("\n", 1)[-1]) + 1
        message = f"unexpected end of input{wanted}"
        if body.endswith(","):
            message = "unexpected end of input after ','; a trailing comma needs a layer after it"
    else:
        line, column = err.line or 1, err.column or 1
        if isinstance(err, UnexpectedCharacters):
            message = f"unexpected character {err.char!r}"
        else:
            token = str(err.token)  # type: ignore[attr-defined]
            message = f"unexpected {token!r}{wanted}"
            if token in ")]" and "a name" in expected:
                message = f"unexpected {token!r} after ','; a trailing comma needs a layer after it"
    pos = locate(line, column)
    hint = "unbalanced brackets" if "']'" in expected or "')'" in expected else None
    return SpecError([Problem(message, pos.line, pos.column, file, hint)])


def parse_pattern(
    text: str, origin: Pos | None = None, file: str = "<spec>", source: SourceMap | None = None
) -> list[Node]:
    """Parse a layer pattern such as ``repeat 6 [fourier, lst(dct)]`` into nodes.

    Positions are ``origin`` (where ``text`` starts in ``file``) plus the position in the
    text, or placed by ``source`` when the text spans several lines of the file.
    """
    origin = origin or Pos()
    locate = _Locator(text, origin, source)
    check_size(text, file, locate)
    if not text.strip():
        raise SpecError([Problem("empty layer pattern", origin.line, origin.column, file)])
    try:
        tree = _parser("pattern").parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, text, locate, file) from None
    return _ToNodes(locate).transform(tree)


def parse_model_text(
    text: str, file: str = "<spec>"
) -> tuple[str, Pos, list[tuple[str, Pos, Node]]]:
    """Parse the text form ``model NAME { key = value ... }``.

    Returns the model name, its position and the ``(key, key position, value)`` fields.
    """
    check_size(text, file)
    locate = _Locator(text, Pos())
    try:
        tree = _parser("model").parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, text, locate, file) from None
    return _ToNodes(locate).transform(tree)
