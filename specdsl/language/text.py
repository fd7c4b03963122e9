"""The text front end: lark grammar -> located nodes."""

from __future__ import annotations

import builtins
from functools import cache
from importlib import resources

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from specdsl.errors import Problem, SpecError
from specdsl.language.nodes import Arg, Call, Node, Pos, Repeat, Scalar, Sequence

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


def _pos(token: Token, origin: Pos) -> Pos:
    line = token.line or 1
    column = token.column or 1
    if line == 1:
        column += origin.column - 1
    return Pos(line + origin.line - 1, column)


class _ToNodes(Transformer):
    """Turns the lark tree into located nodes (positions shifted by ``origin``)."""

    def __init__(self, origin: Pos):
        super().__init__()
        self.origin = origin

    def _at(self, token: Token) -> Pos:
        return _pos(token, self.origin)

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


def check_size(text: str, file: str) -> None:
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
                raise SpecError(
                    [Problem(f"nesting deeper than {MAX_NESTING} levels", line, column, file)]
                )
        elif char in ")]}":
            depth -= 1


def _syntax_error(err: UnexpectedInput, text: str, origin: Pos, file: str) -> SpecError:
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
    if line == 1:
        column += origin.column - 1
    line += origin.line - 1
    hint = "unbalanced brackets" if "']'" in expected or "')'" in expected else None
    return SpecError([Problem(message, line, column, file, hint)])


def parse_pattern(text: str, origin: Pos | None = None, file: str = "<spec>") -> list[Node]:
    """Parse a layer pattern such as ``repeat 6 [fourier, lst(dct)]`` into nodes."""
    origin = origin or Pos()
    check_size(text, file)
    if not text.strip():
        raise SpecError([Problem("empty layer pattern", origin.line, origin.column, file)])
    try:
        tree = _parser("pattern").parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, text, origin, file) from None
    return _ToNodes(origin).transform(tree)


def parse_model_text(
    text: str, file: str = "<spec>"
) -> tuple[str, Pos, list[tuple[str, Pos, Node]]]:
    """Parse the text form ``model NAME { key = value ... }``.

    Returns the model name, its position and the ``(key, key position, value)`` fields.
    """
    check_size(text, file)
    try:
        tree = _parser("model").parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, text, Pos(), file) from None
    return _ToNodes(Pos()).transform(tree)
