"""Fuzzing: random valid specs round-trip; mutated texts give located SpecErrors, fast.

``FUZZ_EXAMPLES`` scales the run (default 2,000 mutations + 300 generated specs). The
examples are the same on every run; ``HYPOTHESIS_PROFILE=explore`` draws fresh ones (see
tests/conftest.py).
"""

import os
import time
import typing
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import specdsl
from specdsl import SpecError
from specdsl.library import REGISTRY
from specdsl.schema.resolve import allowed_args

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
SEEDS = [p.read_text() for p in sorted((ROOT / "architectures").glob("*.*"))] + [
    "layers: repeat 2 [fourier, lst(dct, num_heads=4)]\nhidden_dim: 64\n",
    "model m {\n  hidden_dim = 32\n  layers = repeat 3 [attention(num_heads=4), fourier]\n}\n",
]
MIXERS = sorted(name for name, entry in REGISTRY.items() if entry.kind == "mixer")


def _choices(name: str) -> dict[str, list[object]]:
    """Arguments with enumerable values (Literal and bool fields) per layer."""
    out: dict[str, list[object]] = {}
    fields = REGISTRY[name].config.model_fields
    for arg in allowed_args(REGISTRY[name]):
        field = fields.get(arg)
        if field is None:
            continue
        if typing.get_origin(field.annotation) is typing.Literal:
            out[arg] = list(typing.get_args(field.annotation))
        elif field.annotation is bool and arg != "causal" and arg != "keep_complex":
            out[arg] = [True, False]
    return out


@st.composite
def layer_text(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(MIXERS))
    choices = _choices(name)
    picked = (
        draw(st.lists(st.sampled_from(sorted(choices)), unique=True, max_size=2)) if choices else []
    )
    args = [f"{arg}={str(draw(st.sampled_from(choices[arg]))).lower()}" for arg in picked]
    return f"{name}({', '.join(args)})" if args or draw(st.booleans()) else name


def pattern_text(depth: int = 2) -> st.SearchStrategy[str]:
    item = layer_text()
    if depth > 0:
        nested = st.builds(
            lambda n, inner: f"repeat {n} [{inner}]",
            st.integers(1, 3),
            st.deferred(lambda: pattern_text(depth - 1)),
        )
        item = st.one_of(item, nested)
    return st.lists(item, min_size=1, max_size=3).map(", ".join)


@settings(
    max_examples=max(300, EXAMPLES // 7),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(pattern=pattern_text(), form=st.sampled_from(["yaml", "sdsl"]))
def test_generated_specs_validate_and_round_trip(pattern: str, form: str) -> None:
    text = f"hidden_dim: 72\nmax_sequence_length: 128\nlayers: '{pattern}'\n"
    try:
        spec = specdsl.parse(text)
    except SpecError as err:
        # Names and enum values are drawn from the registry: only a cross-field rule of a
        # layer (e.g. two options that cannot both be off) may reject the spec.
        for problem in err.problems:
            assert problem.line == 3 and "unknown" not in problem.message, problem
            assert "Input should be" not in problem.message, problem
        return
    assert specdsl.parse(specdsl.dump(spec, format=form)) == spec


def _mutate(data: st.DataObject, text: str) -> str:
    ops = data.draw(
        st.lists(
            st.sampled_from(["delete", "duplicate", "swap", "insert", "bytes", "name", "nest"]),
            min_size=1,
            max_size=4,
        )
    )
    for op in ops:
        i = data.draw(st.integers(0, max(0, len(text) - 1)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "swap" and j - i >= 2:
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        elif op == "insert":
            text = (
                text[:i] + data.draw(st.sampled_from(list("[](){},=:#'\"\n\t -!&*|>"))) + text[i:]
            )
        elif op == "bytes":
            text = text[:i] + data.draw(st.text(max_size=6)) + text[i:]
        elif op == "name":
            text = text[:i] + "x" * data.draw(st.integers(100, 5000)) + text[i:]
        elif op == "nest":
            depth = data.draw(st.integers(1, 200))
            text = text[:i] + "repeat 1 [" * depth + "fourier" + "]" * depth + text[i:]
    return text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_texts_fail_cleanly(data: st.DataObject) -> None:
    text = _mutate(data, data.draw(st.sampled_from(SEEDS)))
    start = time.perf_counter()
    try:
        specdsl.parse(
            text if "\n" in text or not text.endswith((".yaml", ".yml", ".sdsl")) else text + "\n"
        )
    except SpecError as err:
        lines = text.split("\n")
        for problem in err.problems:
            assert 1 <= problem.line <= len(lines) + 1, (problem, len(lines))
            width = len(lines[problem.line - 1]) if problem.line <= len(lines) else 0
            assert 1 <= problem.column <= width + 2, (problem, width)
    assert time.perf_counter() - start < 1.0


def test_huge_text_is_refused_by_size() -> None:
    text = "layers: fourier\n" + "# padding\n" * 1_100_000
    start = time.perf_counter()
    try:
        specdsl.parse(text)
    except SpecError as err:
        assert "limit" in str(err)
    else:
        raise AssertionError("a 10 MB spec was accepted")
    assert time.perf_counter() - start < 1.0
