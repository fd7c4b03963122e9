"""Training memory (--train): the estimate against what a real forward keeps for backward."""

from __future__ import annotations

import pytest

import specdsl
from specdsl.estimate import parse_bytes, plan, training_memory
from specdsl.estimate.training import largest
from specdsl.library import REGISTRY

SMALL = "hidden_dim: 32\nmax_sequence_length: 64\n"
# Every mixer at its defaults, causal where it can be, and with dropout where it has one:
# hidden 72 is divisible by every default number of heads.
LAYERS = sorted(name for name, entry in REGISTRY.items() if entry.kind == "mixer")
MIXERS = list(LAYERS)
LAYERS += [f"{name}(causal=true)" for name in MIXERS if REGISTRY[name].causal is None]
# A layer's own dropout (which is also its block's): every mask it keeps is counted.
LAYERS += [
    f"{name}(dropout=0.2)" for name in MIXERS if "dropout" in REGISTRY[name].config.model_fields
]
# Model-level features on top of the layers: heads, positions, composite blocks, dropout.
MEASURED_SPECS = {
    "hybrid": "vocab_size: 50\nhead: {type: classification, num_classes: 3}\n"
    'layers: "repeat 2 [fourier, lst(dct, num_heads=4)]"',
    "attention-rotary": 'positional_encoding: rotary\nlayers: "repeat 2 [attention(num_heads=4)]"',
    "attention-alibi-lm": "positional_encoding: alibi\nvocab_size: 40\nhead: lm\n"
    'layers: "attention(num_heads=2), hadamard_attention(num_heads=2)"',
    "composites": "head: {type: classification, num_classes: 3, pooling: max}\n"
    'layers: "cascade(fourier, lst(dct, num_heads=4)),'
    ' multiscale(fourier, attention, fusion=gate)"',
    "linear-attention": "head: {type: sequence, num_classes: 3}\n"
    'layers: "performer(num_heads=4), spectral_attention(num_heads=2)"',
    "dropout": "dropout: 0.1\nvocab_size: 50\n"
    'layers: "fourier, attention(dropout=0.3), parallel(lst(dct, num_heads=4)),'
    ' post_norm(fourier, ffn_hidden_dim=48), multiscale(fourier, attention, fusion=gate)"',
}


@pytest.mark.parametrize("n", [37, 64])
@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_activation_bytes_match_profiler(layer, n, measure_model, measure_held):
    """Two blocks of each mixer: the estimate within 15% of what a forward keeps."""
    spec = specdsl.parse(f'hidden_dim: 72\nmax_sequence_length: 64\nlayers: "repeat 2 [{layer}]"')
    measured = measure_model(spec, batch=2, n=n)
    held = measure_held(measured.model, measured.inputs)
    estimated = specdsl.estimate(spec, batch_size=2, seq_len=n).activation_bytes
    assert abs(estimated - held) <= 0.15 * held, f"estimate {estimated:,} B, profiler {held:,} B"


@pytest.mark.parametrize("body", MEASURED_SPECS.values(), ids=list(MEASURED_SPECS))
def test_activation_bytes_match_profiler_within_20_percent(body, measure_model, measure_held):
    spec = specdsl.parse(SMALL + body)
    measured = measure_model(spec, batch=2, n=37)
    held = measure_held(measured.model, measured.inputs)
    estimated = specdsl.estimate(spec, batch_size=2, seq_len=37).activation_bytes
    assert abs(estimated - held) <= 0.2 * held, f"estimate {estimated:,} B, profiler {held:,} B"


def test_checkpointed_activations_match_profiler(measure_model, measure_held):
    """With checkpointing a forward keeps each block's input; backward recomputes one block."""
    spec = specdsl.parse(SMALL + "gradient_checkpointing: true\n" + MEASURED_SPECS["hybrid"])
    measured = measure_model(spec, batch=2, n=37)
    held = measure_held(measured.model, measured.inputs)
    memory = training_memory(plan(spec), batch_size=2, seq_len=37)
    assert memory.checkpointing is True  # from the spec
    kept = memory.activation_bytes_checkpointed - memory.recompute_bytes
    assert abs(kept - held) <= 0.2 * held, f"estimate {kept:,} B, profiler {held:,} B"
    assert memory.total_bytes == memory.total_bytes_checkpointed
    assert memory.activation_bytes_checkpointed < memory.activation_bytes


def test_weights_gradients_and_optimizer_state() -> None:
    planned = plan(SMALL + "layers: fourier")
    params = planned.evaluate().params
    adam = training_memory(planned, 1, 64)
    assert adam.weight_bytes == adam.gradient_bytes == 4 * params
    assert adam.optimizer_bytes == 2 * adam.weight_bytes
    assert adam.total_bytes == 4 * adam.weight_bytes + adam.activation_bytes
    sgd = training_memory(planned, 1, 64, optimizer="sgd", dtype="bfloat16")
    assert sgd.optimizer_bytes == 0
    assert sgd.weight_bytes == 2 * params
    assert sgd.activation_bytes == adam.activation_bytes // 2


def test_largest_batch_fits_and_the_next_does_not() -> None:
    planned = plan(SMALL + 'layers: "repeat 3 [attention(num_heads=4)]"')
    memory = training_memory(planned, 1, 64, memory_limit=parse_bytes("64MiB"))
    best = memory.max_batch_size
    assert best is not None and best > 1
    assert training_memory(planned, best, 64).total_bytes <= 64 * 2**20
    assert training_memory(planned, best + 1, 64).total_bytes > 64 * 2**20
    checkpointed = training_memory(planned, 1, 64, checkpointing=True, memory_limit=64 * 2**20)
    assert checkpointed.max_batch_size > best
    assert training_memory(planned, 1, 64, memory_limit=1000).max_batch_size == 0


def test_largest_of_a_monotone_predicate() -> None:
    assert largest(lambda b: b <= 1000) == 1000
    assert largest(lambda b: b <= 1) == 1
    assert largest(lambda b: False) == 0


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("80GB", 80 * 10**9),
        ("16GiB", 16 * 2**30),
        ("512", 512),
        ("1.5 mb", 1_500_000),
        ("2TiB", 2**41),
    ],
)
def test_parse_bytes(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize("text", ["", "GB", "-1GB", "12XB", "0", "1e9"])
def test_parse_bytes_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="memory size"):
        parse_bytes(text)


def test_training_rejects_bad_arguments() -> None:
    planned = plan(SMALL + "layers: fourier")
    with pytest.raises(ValueError, match="optimizer must be one of adam, sgd"):
        training_memory(planned, 1, 8, optimizer="lamb")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        training_memory(planned, 0, 8)
    with pytest.raises(ValueError, match="dtype must be one of"):
        training_memory(planned, 1, 8, dtype="int8")
