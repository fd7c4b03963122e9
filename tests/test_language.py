"""Grammar, YAML front end, validation errors with positions, and dump round trips."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import specdsl
from specdsl import SpecError
from specdsl.schema.spec import expand

ROOT = Path(__file__).resolve().parents[1]


def types(spec: specdsl.Spec) -> list[str]:
    return [layer.type for layer, _ in expand(spec.layers)]


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        specdsl.parse(text)
    return info.value


def test_repeat_expands_in_order() -> None:
    spec = specdsl.parse("hidden_dim: 64\nlayers: repeat 6 [fourier, lst(dct)]")
    assert types(spec) == ["fourier", "lst"] * 6
    assert spec.layers[0].layers[1].args == {"transform_type": "dct"}


def test_positional_equals_keyword() -> None:
    a = specdsl.parse("layers: lst(dct)")
    b = specdsl.parse("layers: lst(transform_type=dct)")
    assert a == b


def test_nested_repeats_and_comments() -> None:
    text = "model m {\n  # a comment\n  layers = repeat 2 [fourier, repeat 3 [attention]], lst\n}\n"
    spec = specdsl.parse(text)
    assert types(spec) == ["fourier", "attention", "attention", "attention"] * 2 + ["lst"]


def test_text_and_yaml_forms_agree() -> None:
    yaml_spec = specdsl.parse(
        "name: m\nvocab_size: 100\nhidden_dim: 64\n"
        "head: {type: classification, num_classes: 3, pooling: max}\n"
        "defaults: {attention: {num_heads: 4}}\n"
        "layers: repeat 2 [fourier, attention]\n"
    )
    text_spec = specdsl.parse(
        "model m {\n vocab_size = 100\n hidden_dim = 64\n"
        " head = classification(num_classes=3, pooling=max)\n"
        " defaults = [attention(num_heads=4)]\n layers = repeat 2 [fourier, attention]\n}"
    )
    assert yaml_spec == text_spec


def test_structured_yaml_list_equals_pattern_string() -> None:
    structured = specdsl.parse(
        "layers:\n  - repeat: 6\n    layers: [fourier, {lst: {transform_type: dct}}]\n"
    )
    assert structured == specdsl.parse('layers: "repeat 6 [fourier, lst(dct)]"')


def test_values_of_every_kind() -> None:
    spec = specdsl.parse("layers: attention(num_heads=4, dropout=1.5e-1, ffn_hidden_dim=8)")
    assert spec.layers[0].args == {"num_heads": 4, "dropout": 0.15, "ffn_hidden_dim": 8}


@pytest.mark.parametrize("path", sorted((ROOT / "architectures").glob("*.*")), ids=lambda p: p.name)
@pytest.mark.parametrize("form", ["yaml", "sdsl"])
def test_dump_round_trip(path: Path, form: str) -> None:
    spec = specdsl.parse(path)
    assert specdsl.parse(specdsl.dump(spec, format=form)) == spec


BAD = [
    # (text, message fragment, line, column)
    ("", "empty spec", 1, 1),
    ("layers: [fourier\n", "YAML syntax error", 2, 1),
    ("layers: fourier\nlayers: lst\n", "duplicate key 'layers'", 2, 1),
    ("x: !!python/object:os.system ls\nlayers: fourier", "YAML tag", 1, 4),
    ("hiden_dim: 64\nlayers: fourier", "unknown field 'hiden_dim'", 1, 1),
    ("layers: fourir", "unknown layer 'fourir'", 1, 9),
    ("layers: attention(num_head=4)", "unknown argument 'num_head'", 1, 19),
    ("layers: attention(num_heads=four)", "num_heads", 1, 29),
    ("hidden_dim: -8\nlayers: fourier", "hidden_dim", 1, 13),
    ("hidden_dim: 0\nlayers: fourier", "greater than 0", 1, 13),
    ("layers: repeat 0 [fourier]", "repeat count must be at least 1", 1, 16),
    ("layers: repeat 2 [fourier", "unbalanced brackets", 1, 26),
    ("layers: repeat 2 [fourier, ]", "trailing comma", 1, 28),
    ("hidden_dim: 30\nlayers: attention(num_heads=4)", "divisible by num_heads", 2, 9),
    ("layers: lst(fft)", "transform_type", 1, 13),
    ("head: {type: classification}\nlayers: fourier", "needs num_classes", 1, 7),
    ("head: {type: lm}\nlayers: fourier", "needs vocab_size", 1, 7),
    ("positional_encoding: alibi\nlayers: fourier", "no layer of this model", 2, 1),
    ("causal: true\nlayers: fourier", "cannot be causal", 2, 9),
    ("hidden_dim: 64\n", "missing field 'layers'", 1, 1),
]


@pytest.mark.parametrize(("text", "fragment", "line", "column"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_is_located(text: str, fragment: str, line: int, column: int) -> None:
    err = error_of(text)
    assert any(fragment in p.message or fragment in (p.hint or "") for p in err.problems), str(err)
    first = next(p for p in err.problems if fragment in p.message or fragment in (p.hint or ""))
    assert (first.line, first.column) == (line, column), str(err)


MULTI_LINE = [  # a layers pattern written over several lines, in every YAML scalar style
    ("layers: repeat 2 [fourier,\n   lst(dctx)]\n", 2, 8),
    ("layers: |\n  repeat 2 [fourier,\n    lst(dctx)]\n", 3, 9),
    ("layers: >\n  repeat 2 [fourier,\n    lst(dctx)]\n", 3, 9),
    ('layers: "repeat 2 [fourier,\n   lst(dctx)]"\n', 2, 8),
    ("layers: 'repeat 2 [fourier,\n\n   lst(dctx)]'\n", 3, 8),
    ("layers: repeat 2 [fourier,\n   lst(dct)=]\n", 2, 12),
    ('layers: "fourier,\n   fourierx\\u0020"\n', 2, 4),  # escapes: the line is guessed
    ('layers: "fourier\\t,\n   fourierx"\n', 2, 4),
    ('layers: "fourier,\n   lst(\\t"\n', 2, 8),
    ("layers: repeat 2 [fourier,\n  " + "repeat 1 [" * 70 + "fourier" + "]" * 70 + "]\n", 2, 642),
]


@pytest.mark.parametrize(("text", "line", "column"), MULTI_LINE)
def test_errors_in_a_pattern_over_several_lines_point_into_the_file(
    text: str, line: int, column: int
) -> None:
    """YAML folds the lines (or drops the indentation) before the pattern is parsed; the
    error must still point at the character in the file."""
    first = error_of(text).first
    assert (first.line, first.column) == (line, column), str(error_of(text))


@given(
    names=st.lists(st.sampled_from(["fourier", "wavelet", "fno", "lst(dct)"]), max_size=6),
    where=st.integers(0, 6),
    style=st.sampled_from(["plain", "'", '"', "|", ">"]),
    indent=st.integers(1, 4),
    breaks=st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_a_bad_layer_in_a_multi_line_pattern_is_located_exactly(
    names: list[str], where: int, style: str, indent: int, breaks: list[bool]
) -> None:
    """Any YAML style, any line breaks and indentation: the error points at the name."""
    names.insert(min(where, len(names)), "fourirx")
    pad = " " * (indent + (style in "|>"))
    body = names[0]
    for name, newline in zip(names[1:], breaks, strict=False):
        body += f",\n{pad}{name}" if newline else f", {name}"
    quote = style if style in "'\"" else ""
    head = f"layers: {style}\n{pad}" if style in "|>" else f"layers: {quote}"
    text = f"{head}{body}{quote}\n"
    at = text.index("fourirx")
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    first = error_of(text).first
    assert "fourirx" in first.message and (first.line, first.column) == (line, column), text


def test_did_you_mean_hints() -> None:
    assert "did you mean 'fourier'?" in str(error_of("layers: fourir"))
    assert "did you mean 'num_heads'?" in str(error_of("layers: attention(num_head=4)"))
    assert "did you mean 'hadamard'?" in str(error_of("layers: lst(hadamrd)"))
    assert "did you mean 'hidden_dim'?" in str(error_of("hiden_dim: 8\nlayers: fourier"))


def test_all_problems_in_one_pass() -> None:
    err = error_of("hiden_dim: 8\ndropout: 2\nlayers: fourir, attention(num_head=2)")
    assert len(err.problems) == 4


def test_text_form_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.sdsl"
    path.write_text("model m {\n  hidden_dim = 64\n  layers = repeat 2 [fourier, lts(dct)]\n}\n")
    err = error_of(str(path))
    assert str(err) == (f"{path}:3:31: error: unknown layer 'lts' (did you mean 'lst'?)")


def test_invalid_utf8_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"layers: fourier\nname: \xff\xfe\n")
    err = error_of(str(path))
    assert "invalid UTF-8" in err.first.message and err.first.line == 2


def test_yaml_aliases_are_refused() -> None:
    assert "aliases" in str(error_of("a: &x [fourier]\nlayers: *x"))


def test_nesting_limit_is_a_spec_error() -> None:
    deep = "layers: " + "repeat 1 [" * 10_000 + "fourier" + "]" * 10_000
    assert "nesting deeper" in str(error_of(deep))
