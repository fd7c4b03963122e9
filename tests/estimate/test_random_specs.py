"""Random valid specs (hypothesis): the estimate equals the compiled model, exactly.

Patterns of 1-4 items drawn from every registered mixer (random values for its choice and
flag arguments), composite blocks and nested repeats; random width, FFN width, vocabulary,
positional encoding, dropout and head. Compared at batch 2 and a non-power-of-two length
(n = 1 is covered per layer in test_exactness.py).
"""

from __future__ import annotations

import typing

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import specdsl
from specdsl.errors import SpecError
from specdsl.library import REGISTRY, LayerEntry

MIXERS = sorted(name for name, entry in REGISTRY.items() if entry.kind == "mixer")
COMPOSITES = sorted(name for name, entry in REGISTRY.items() if entry.kind == "block")
# Arguments left at their defaults: they change neither shapes nor counted work, or they
# change the output type (keep_complex returns the complex spectrum).
FIXED = {"dropout", "norm_eps", "energy_tolerance", "keep_complex", "feature_redraw"}
HEADS = (1, 2, 4)


def _choices(annotation: object) -> list[object] | None:
    if annotation is bool:
        return [False, True]
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return None


@st.composite
def mixer(draw: st.DrawFn) -> str:
    """``name(key=value, ...)`` of a registered mixer with random choice/flag arguments."""
    name = draw(st.sampled_from(MIXERS))
    entry: LayerEntry = REGISTRY[name]
    args = []
    for field, info in entry.config.model_fields.items():
        if field in entry.context or field in FIXED:
            continue
        if field == "num_heads":
            args.append(f"num_heads={draw(st.sampled_from(HEADS))}")
        elif (choices := _choices(info.annotation)) is not None and draw(st.booleans()):
            value = draw(st.sampled_from(choices))
            args.append(f"{field}={str(value).lower() if isinstance(value, bool) else value}")
    if draw(st.integers(0, 3)) == 0:
        args.append(f"ffn_hidden_dim={draw(st.sampled_from((8, 24)))}")
    return f"{name}({', '.join(args)})" if args else name


@st.composite
def block(draw: st.DrawFn) -> str:
    """A mixer, or a composite block of 1-2 mixers with random options."""
    if not COMPOSITES or draw(st.integers(0, 3)) > 0:
        return draw(mixer())
    name = draw(st.sampled_from(COMPOSITES))
    entry = REGISTRY[name]
    low, high = entry.children
    children = [draw(mixer()) for _ in range(draw(st.integers(low, min(high, 2))))]
    for field, info in entry.config.model_fields.items():
        if (choices := _choices(info.annotation)) is not None:
            children.append(f"{field}={draw(st.sampled_from(choices))}")
    return f"{name}({', '.join(children)})"


@st.composite
def pattern(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 4)) == 0:
            inner = ", ".join(draw(block()) for _ in range(draw(st.integers(1, 2))))
            items.append(f"repeat {draw(st.integers(1, 2))} [{inner}]")
        else:
            items.append(draw(block()))
    return ", ".join(items)


@st.composite
def spec_text(draw: st.DrawFn) -> str:
    layers = draw(pattern())
    vocab = draw(st.sampled_from((None, 31)))
    head_type = draw(st.sampled_from(("none", "classification", "regression", "sequence", "lm")))
    head: dict[str, object] = {"type": head_type}
    if head_type in ("classification", "regression", "sequence"):
        head["num_classes"] = draw(st.integers(1, 5))
        head["pooling"] = draw(st.sampled_from(("cls", "mean", "max")))
    if head_type == "lm":
        vocab = vocab or 29
        head["tie_weights"] = draw(st.booleans())
    positions = ["sinusoidal", "learned", "none"]
    if "attention" in layers:
        positions += ["rotary", "alibi"]
    fields = {
        "name": "random",
        "vocab_size": vocab,
        "hidden_dim": draw(st.sampled_from((16, 32))),
        "max_sequence_length": 48,
        "ffn_hidden_dim": draw(st.sampled_from((None, 20, 64))),
        "dropout": draw(st.sampled_from((0.0, 0.1))),
        "positional_encoding": draw(st.sampled_from(positions)),
        "head": head,
        "layers": layers,
    }
    return yaml.safe_dump(fields, sort_keys=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=spec_text(), n=st.sampled_from((5, 20, 33)))
def test_random_spec_estimate_is_exact(text: str, n: int, measure_model) -> None:
    try:
        spec = specdsl.parse(text)
    except SpecError:
        assume(False)  # e.g. rotary with no layer applying it, hadamard heads over width
        raise
    measured = measure_model(spec, batch=2, n=n)
    est = specdsl.estimate(spec, batch_size=2, seq_len=n)
    assert est.params == measured.params, (
        f"params: estimate {est.params}, model {measured.params}\n{text}"
    )
    assert est.matmul_flops == measured.matmul_flops, (
        f"matmul_flops: estimate {est.matmul_flops}, measured {measured.matmul_flops}\n{text}"
    )
