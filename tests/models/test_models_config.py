"""Arguments and configs: documented errors, from_config, the torch-free config module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from specdsl.config import (
    AFNOModelConfig,
    FNetModelConfig,
    FNOTransformerConfig,
    HybridModelConfig,
    LSTModelConfig,
    SpectralAttentionModelConfig,
)
from specdsl.models import (
    AFNOModel,
    FNet,
    FNetEncoder,
    FNOTransformer,
    HybridTransformer,
    LSTDecoder,
    LSTTransformer,
    PerformerTransformer,
    SpectralAttentionTransformer,
)

SMALL = {"hidden_dim": 32, "num_layers": 2, "max_sequence_length": 16}
CONFIG = {"hidden_dim": 32, "num_layers": 2, "sequence_length": 16}


@pytest.mark.parametrize(
    ("cls", "arguments", "message"),
    [
        (FNOTransformer, {"use_2d": True}, "spatial_dim must be specified"),
        (FNOTransformer, {"use_2d": True, "spatial_dim": 5}, r"spatial_dim\*\*2"),
        (FNet, {"hidden_dim": 0}, "hidden_dim=0: Input should be greater than 0"),
        (LSTTransformer, {"max_sequence_length": -4}, "max_sequence_length=-4"),
        (FNet, {"output_type": "logits"}, "output_type='logits'"),
        (FNet, {"dropout": 1.5}, "dropout=1.5"),
        (LSTTransformer, {"transform_type": "fft"}, "transform_type='fft'"),
        (FNet, {"output_type": "lm"}, "output_type='lm' needs vocab_size"),
        (HybridTransformer, {"spectral_type": "attention"}, "spectral_type='attention'"),
        (HybridTransformer, {"num_heads": 5}, "divisible by num_heads"),
        (HybridTransformer, {"alternation_pattern": "custom"}, "needs custom_pattern"),
        (LSTDecoder, {"vocab_size": 9, "positional_encoding_type": "rotary"}, "rotary"),
        (PerformerTransformer, {"use_orthogonal": False}, "use_orthogonal=False"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(cls, arguments, message):
    with pytest.raises(ValueError, match=message):
        cls(**{**SMALL, **arguments})


def test_unknown_config_key_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown key 'modes'") as info:
        HybridTransformer(**SMALL, spectral_type="wavelet", spectral_config={"modes": 3})
    assert "allowed: " in str(info.value) and "levels" in str(info.value)
    with pytest.raises(ValueError, match="spatial_config: unknown key 'wavelet'"):
        HybridTransformer(**SMALL, num_heads=4, spatial_config={"wavelet": "db2"})


def test_custom_pattern_errors_name_the_pattern():
    with pytest.raises(ValueError, match="did you mean 'fourier'"):
        HybridTransformer(**SMALL, alternation_pattern="custom", custom_pattern="fourir, spatial")
    with pytest.raises(ValueError, match="takes no arguments"):
        HybridTransformer(**SMALL, alternation_pattern="custom", custom_pattern="spatial(4)")


def test_config_values_must_be_plain():
    with pytest.raises(ValueError, match="levels must be a bool, int, float or string"):
        HybridTransformer(**SMALL, spectral_type="wavelet", spectral_config={"levels": [2]})


def test_from_config_maps_sequence_length():
    model = FNet.from_config(FNetModelConfig(**CONFIG, use_real_fft=False, num_classes=3))
    assert model.max_sequence_length == 16
    assert model.use_real_fft is False
    assert (model.output_type, model.num_classes) == ("classification", 3)
    assert model.spec == FNet.spec_for(**SMALL, use_real_fft=False, num_classes=3, dropout=0.0)


def test_from_config_accepts_a_mapping():
    model = LSTTransformer.from_config({**CONFIG, "transform_type": "dst"})
    assert model.transform_type == "dst"
    assert isinstance(LSTModelConfig(**CONFIG), LSTModelConfig)


def test_afno_from_config_n_modes_shorthand():
    config = AFNOModelConfig(**CONFIG, n_modes=8, compression_ratio=0.25)
    model = AFNOModel.from_config(config)
    assert (model.modes_seq, model.modes_hidden) == (8, 2)
    default = AFNOModel(**SMALL)
    assert (default.modes_seq, default.modes_hidden) == (8, 16)  # n // 2, hidden // 2


def test_from_config_refuses_fields_the_class_cannot_use():
    with pytest.raises(ValueError, match="FNetEncoder does not take num_classes"):
        FNetEncoder.from_config(FNetModelConfig(**CONFIG, num_classes=3))
    encoder = FNetEncoder.from_config(FNetModelConfig(**CONFIG))
    assert encoder.output_type == "none"


def test_spectral_attention_from_config_uses_its_defaults():
    config = SpectralAttentionModelConfig(**CONFIG, num_heads=4, num_features=8)
    model = SpectralAttentionTransformer.from_config(config)
    assert (model.kernel_type, model.use_orthogonal, model.num_features) == ("gaussian", True, 8)
    assert SpectralAttentionTransformer(**SMALL, num_heads=4).num_features == 32


def test_config_classes_validate_their_fields():
    with pytest.raises(ValueError, match="spatial_dim must be specified"):
        FNOTransformerConfig(**CONFIG, use_2d=True)
    with pytest.raises(ValueError, match="extra"):
        FNetModelConfig(**CONFIG, use_real_ftt=True)
    assert HybridModelConfig(**CONFIG).model_type == "hybrid"


def test_config_module_does_not_import_torch():
    code = "import sys, specdsl.config, specdsl.models; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_positional_encoding_arguments():
    plain = FNet(**SMALL, use_positional_encoding=False)
    assert plain.spec.positional_encoding == "none" and plain.positional is None
    assert plain.use_positional_encoding is False
    learned = LSTTransformer(**SMALL, positional_encoding_type="learned")
    assert learned.spec.positional_encoding == "learned"
    assert learned.positional_encoding_type == "learned"
    rotary = HybridTransformer(**SMALL, num_heads=4, positional_encoding_type="rotary")
    assert rotary.spec.positional_encoding == "rotary" and rotary.positional is None
    assert rotary.blocks[1].mixer.positional == "rotary"


def test_head_arguments_follow_the_documented_rules():
    classifier = FNet(**SMALL, num_classes=4)
    assert (classifier.spec.head.type, classifier.spec.head.pooling) == ("classification", "cls")
    assert FNet(**SMALL).output_type == "none"  # classification without num_classes
    regression = FNet(**SMALL, output_type="regression")
    assert (regression.spec.head.type, regression.num_classes) == ("regression", 1)
    sequence = FNet(**SMALL, vocab_size=40, output_type="sequence")
    assert sequence.spec.head.num_classes == 40
    with pytest.raises(ValueError, match="num_classes must be None or vocab_size"):
        FNet(**SMALL, vocab_size=40, output_type="lm", num_classes=7)
