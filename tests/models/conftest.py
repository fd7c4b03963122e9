"""Shared cases for the model-class tests: every documented model at a small size."""

from __future__ import annotations

from typing import Any

import pytest

from specdsl.models.catalog import MODULES, model_class

SMALL: dict[str, Any] = {"hidden_dim": 32, "num_layers": 2, "max_sequence_length": 16}
VOCAB = 50

#: Per-model arguments that keep each small model valid and cheap.
EXTRA: dict[str, dict[str, Any]] = {
    "SpectralAttentionTransformer": {"num_heads": 4, "num_features": 8},
    "SpectralAttentionEncoder": {"num_heads": 4, "num_features": 8},
    "PerformerTransformer": {"num_heads": 4, "num_features": 8},
    "HybridTransformer": {"num_heads": 4},
    "HybridEncoder": {"num_heads": 4},
    "AlternatingTransformer": {"layer2_config": {"num_heads": 4}},
    "FNOTransformer": {"modes": 4},
    "FNOEncoder": {"modes": 4},
    "FNODecoder": {"modes": 4, "vocab_size": VOCAB},
    "WaveletTransformer": {"levels": 2},
    "WaveletEncoder": {"levels": 2},
    "WaveletDecoder": {"levels": 2, "vocab_size": VOCAB},
    "LSTDecoder": {"vocab_size": VOCAB},
}

#: Models whose constructor takes ``output_type`` (every head is tested on them).
WITH_HEADS = sorted(name for name in MODULES if "Encoder" not in name and "Decoder" not in name)


def small_arguments(name: str, **overrides: Any) -> dict[str, Any]:
    """Default arguments of model ``name`` at a small size, plus ``overrides``."""
    return {**SMALL, **EXTRA.get(name, {}), **overrides}


def build_small(name: str, **overrides: Any) -> Any:
    """Model ``name`` built at a small size."""
    return model_class(name)(**small_arguments(name, **overrides))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "model_name" in metafunc.fixturenames:
        metafunc.parametrize("model_name", sorted(MODULES))
    if "headed_model" in metafunc.fixturenames:
        metafunc.parametrize("headed_model", WITH_HEADS)


@pytest.fixture
def build() -> Any:
    """``build(name, **overrides)``: a small model."""
    return build_small


@pytest.fixture
def arguments() -> Any:
    """``arguments(name, **overrides)``: small constructor arguments."""
    return small_arguments
