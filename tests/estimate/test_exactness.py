"""params and matmul_flops equal the compiled model, exactly: architectures, every layer."""

from __future__ import annotations

from pathlib import Path

import pytest

import specdsl
from specdsl.library import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURES = sorted((ROOT / "architectures").glob("*.*"))
MIXERS = sorted(name for name, entry in REGISTRY.items() if entry.kind == "mixer")
COMPOSITES = [
    "parallel(fourier)",
    "post_norm(attention(num_heads=4))",
    "cascade(fourier, lst(dct, num_heads=4))",
    "multiscale(fourier, attention(num_heads=4), fusion=concat)",
    "multiscale(fourier, lst(hadamard, num_heads=2), fusion=gate)",
    "multiscale(fourier, attention, fusion=add)",
    "adaptive(fourier, attention(num_heads=2), gate=hard)",
]
# hidden 72 is divisible by every default head count (8, and 9 for mixed_spectral_attention)
SMALL = "hidden_dim: 72\nmax_sequence_length: 64\npositional_encoding: none\n"


def assert_exact(spec: specdsl.Spec, measured) -> None:
    est = specdsl.estimate(spec, batch_size=measured.batch, seq_len=measured.seq_len)
    assert est.params == measured.params, f"params: estimate {est.params}, model {measured.params}"
    assert est.matmul_flops == measured.matmul_flops, (
        f"matmul_flops: estimate {est.matmul_flops}, FlopCounterMode {measured.matmul_flops}"
    )
    assert est.flops == est.matmul_flops + est.other_flops


def test_architectures_are_all_found() -> None:
    assert len(ARCHITECTURES) >= 3


@pytest.mark.parametrize("path", ARCHITECTURES, ids=lambda p: p.name)
def test_architecture_exact(path: Path, measure_model) -> None:
    """At the documented size, on the meta device (shapes only)."""
    spec = specdsl.parse(path)
    assert_exact(spec, measure_model(spec, batch=2, n=37, device="meta"))


def _variants() -> list[str]:
    out = []
    for name in MIXERS:
        out.append(name)
        if "causal" in REGISTRY[name].config.model_fields:
            out.append(f"{name}(causal=true)")
    return out


@pytest.mark.parametrize("layer", _variants())
@pytest.mark.parametrize("n", [1, 37])
def test_every_registered_mixer_exact(layer: str, n: int, measure_model) -> None:
    spec = specdsl.parse(SMALL + f'layers: "{layer}"')
    assert_exact(spec, measure_model(spec, n=n))


@pytest.mark.parametrize("pattern", COMPOSITES)
def test_composite_blocks_exact(pattern: str, measure_model) -> None:
    spec = specdsl.parse(SMALL.replace("72", "64") + f'layers: "{pattern}"')
    assert_exact(spec, measure_model(spec, n=29))


MODEL_PARTS = {
    "rotary": "positional_encoding: rotary\nlayers: attention(num_heads=4)",
    "alibi-causal": "positional_encoding: alibi\ncausal: true\nlayers: attention(num_heads=4)",
    "learned-lm-tied": "positional_encoding: learned\nvocab_size: 97\n"
    "head: {type: lm, tie_weights: true}\nlayers: fourier",
    "sinusoidal-lm": "vocab_size: 97\nhead: lm\nlayers: lst(hadamard, num_heads=2)",
    "cls-pooling": "head: {type: classification, num_classes: 3, pooling: cls}\nlayers: fourier",
    "max-pooling": "dropout: 0.1\nhead: {type: classification, num_classes: 3, pooling: max}\n"
    "layers: fourier",
    "regression": "head: {type: regression, num_classes: 2}\nlayers: fourier",
    "sequence": "head: {type: sequence, num_classes: 5}\nlayers: fourier",
    "ffn-option": 'ffn_hidden_dim: 40\nlayers: "repeat 2 [fourier(ffn_hidden_dim=24), fourier]"',
}


@pytest.mark.parametrize("body", MODEL_PARTS.values(), ids=list(MODEL_PARTS))
def test_model_parts_exact(body: str, measure_model) -> None:
    spec = specdsl.parse("hidden_dim: 32\nmax_sequence_length: 64\n" + body)
    assert_exact(spec, measure_model(spec, n=23))
