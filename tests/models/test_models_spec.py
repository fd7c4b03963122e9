"""Model classes as specs: round trips, the files in architectures/, layer orders."""

from __future__ import annotations

from pathlib import Path

import pytest

import specdsl
from specdsl.guard import check_limits
from specdsl.models import HybridEncoder, HybridTransformer
from specdsl.models.catalog import (
    ARCHITECTURE_ARGUMENTS,
    MODULES,
    architecture_spec,
    architecture_text,
    model_class,
)
from specdsl.schema.spec import expand

ARCHITECTURES = Path(__file__).resolve().parents[2] / "architectures"


def block_types(spec: specdsl.Spec) -> list[str]:
    return [layer.type for layer, _ in expand(spec.layers)]


def test_spec_round_trips_in_both_forms(model_name, arguments):
    spec = model_class(model_name).spec_for(**arguments(model_name))
    assert specdsl.parse(specdsl.dump(spec, format="yaml")) == spec
    assert specdsl.parse(specdsl.dump(spec, format="sdsl")) == spec


def test_default_spec_round_trips(model_name):
    spec = architecture_spec(model_name)
    assert specdsl.parse(specdsl.dump(spec, format="sdsl")) == spec


def test_architecture_file_is_the_default_model(model_name):
    spec = architecture_spec(model_name)
    path = ARCHITECTURES / f"{spec.name}.yaml"
    assert path.is_file(), f"missing {path.name}: python -m specdsl.models.catalog architectures"
    from_file = specdsl.parse(path)
    assert from_file == spec, f"{path.name} differs from {model_name} defaults"
    assert from_file.name == model_class(model_name).spec_name
    file_params = specdsl.estimate(from_file, seq_len=64).params
    assert file_params == specdsl.estimate(spec, seq_len=64).params
    assert file_params > 0


def test_architecture_file_passes_the_build_limits(model_name):
    # `specdsl build FILE` refuses specs over the default resource limits.
    path = ARCHITECTURES / f"{model_class(model_name).spec_name}.yaml"
    check_limits(specdsl.parse(path))


def test_generated_file_text_parses_to_the_spec():
    text = architecture_text("LSTDecoder")
    assert text.startswith("# specdsl.models.LSTDecoder(vocab_size=10000)")
    assert specdsl.parse(text) == architecture_spec("LSTDecoder")
    assert ARCHITECTURE_ARGUMENTS["LSTDecoder"] == {"vocab_size": 10_000}


def test_every_model_is_catalogued():
    assert set(specdsl.models.__all__) == set(MODULES)
    assert issubclass(model_class("FNet"), specdsl.models.SpecModel)
    names = [model_class(name).spec_name for name in MODULES]
    assert len(set(names)) == len(names)


def test_spec_for_matches_the_built_model(build, arguments):
    model = build("WaveletDecoder")
    assert model_class("WaveletDecoder").spec_for(**arguments("WaveletDecoder")) == model.spec
    assert model.spec.causal and model.spec.head.type == "lm"


def test_decoder_spec_reads_as_documented():
    spec = model_class("LSTDecoder").spec_for(vocab_size=10_000)
    assert (spec.vocab_size, spec.hidden_dim, spec.max_sequence_length) == (10_000, 512, 2048)
    assert spec.causal
    assert block_types(spec) == ["lst"] * 12
    assert {layer.args["transform_type"] for layer, _ in expand(spec.layers)} == {"dst"}


def test_use_real_fft_chooses_the_fnet_layer():
    fnet = model_class("FNet")
    assert block_types(fnet.spec_for(num_layers=2)) == ["real_fourier"] * 2
    assert block_types(fnet.spec_for(num_layers=2, use_real_fft=False)) == ["fourier"] * 2


SMALL = {"hidden_dim": 32, "max_sequence_length": 16, "num_heads": 4}


@pytest.mark.parametrize("num_layers", [4, 5])
def test_alternation_patterns_give_three_orders(num_layers):
    S, P = "real_fourier", "attention"
    orders = {
        pattern: block_types(
            HybridTransformer.spec_for(
                num_layers=num_layers,
                alternation_pattern=pattern,
                custom_pattern="spectral, spectral, spatial" if pattern == "custom" else None,
                **SMALL,
            )
        )
        for pattern in ("even_spectral", "alternate", "custom")
    }
    assert orders["even_spectral"] == [S, P, S, P, S][:num_layers]
    assert orders["alternate"] == [S, P, P, S, S][:num_layers]
    assert orders["custom"] == [S, S, P, S, S][:num_layers]
    assert len({tuple(order) for order in orders.values()}) == 3


def test_custom_pattern_may_be_the_whole_stack_with_any_layer():
    spec = HybridEncoder.spec_for(
        num_layers=4,
        alternation_pattern="custom",
        custom_pattern="repeat 2 [spectral], spatial, lst(dct)",
        spatial_type="spectral_attention",
        spatial_config={"num_features": 8},
        **SMALL,
    )
    assert block_types(spec) == ["real_fourier", "real_fourier", "spectral_attention", "lst"]
    assert specdsl.parse(specdsl.dump(spec)) == spec


def test_hybrid_configs_reach_the_layers():
    spec = HybridTransformer.spec_for(
        num_layers=2,
        spectral_type="afno",
        spectral_config={"n_modes": 4, "mlp_ratio": 1.5},
        spatial_type="lst",
        spatial_config={"use_conv_bias": False, "transform_type": "dst"},
        **SMALL,
    )
    afno, lst = (layer for layer, _ in expand(spec.layers))
    assert (afno.type, afno.args) == ("afno", {"modes_seq": 4, "mlp_ratio": 1.5})
    assert (lst.type, lst.args) == (
        "lst",
        {"num_heads": 4, "use_bias": False, "transform_type": "dst"},
    )
    gfnet = HybridTransformer.spec_for(
        num_layers=1, spectral_type="gfnet", spectral_config={"filter_activation": "tanh"}, **SMALL
    )
    assert gfnet.layers[0].type == "global_filter"
    assert gfnet.layers[0].args == {"activation": "tanh"}


def test_alternating_transformer_order():
    cls = model_class("AlternatingTransformer")
    spec = cls.spec_for(
        num_layers=3,
        layer1_type="attention",
        layer2_type="gfnet",
        **{"hidden_dim": 32, "max_sequence_length": 16, "layer1_config": {"num_heads": 4}},
    )
    assert block_types(spec) == ["attention", "global_filter", "attention"]
