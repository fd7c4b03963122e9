"""Attention-type mixers: the contract every layer keeps, and softmax attention's formula.

Every case is written once, as DSL text, and resolved through the spec pipeline, so the
same string checks DSL reachability, the module and the cost formula.
"""

from __future__ import annotations

import math

import pytest
import torch

import specdsl
from specdsl.library import REGISTRY, Dims
from specdsl.library.attention import StandardAttentionConfig
from specdsl.library.attention.modules import StandardAttention
from specdsl.schema.resolve import resolve_config
from specdsl.testing import (
    assert_causal,
    assert_cost_matches,
    assert_gradients_flow,
    build,
    held_for_backward,
)

WIDTH = 16
CASES = [
    "attention(4)",
    "lst(dct, num_heads=4)",
    "lst(dst, num_heads=4)",
    "lst(hadamard, num_heads=4, normalize=false)",
    "lst(mixed, num_heads=4, use_bias=false)",
    "dct_attention(num_heads=4)",
    "hadamard_attention(num_heads=4, scale_by_sqrt=false)",
    "mixed_spectral_attention(num_heads=4)",
    "mixed_spectral_attention(num_heads=2, use_dct=false)",
    "spectral_attention(num_heads=4, num_features=8)",
    "spectral_attention(gaussian, num_heads=2, head_dim=6)",
    "performer(num_heads=4)",
    "performer(num_heads=4, generalized=true)",
    "kernel_attention(num_heads=4)",
    "kernel_attention(polynomial, num_heads=4, rank=2)",
    "kernel_attention(spectral, num_heads=4, rank=3, num_features=6)",
]
FAMILIES = ("attention", "lst", "spectral_attention")


def config_of(call: str, causal: bool = False):
    """The validated config of a layer written in the DSL."""
    spec = specdsl.parse(f'hidden_dim: {WIDTH}\ncausal: {str(causal).lower()}\nlayers: "{call}"')
    return resolve_config(spec, spec.layers[0])


def layer_of(
    call: str, causal: bool = False, dtype: torch.dtype = torch.float64
) -> torch.nn.Module:
    return build(config_of(call, causal)).to(dtype)


def padding_mask() -> torch.Tensor:
    """Batch 0 right-padded, batch 1 left-padded."""
    mask = torch.ones(2, 11, dtype=torch.bool)
    mask[0, 8:] = False
    mask[1, :3] = False
    return mask


def test_every_layer_of_these_families_is_covered() -> None:
    names = {name for name, entry in REGISTRY.items() if entry.family in FAMILIES}
    assert names == {call.partition("(")[0] for call in CASES}


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("call", CASES)
def test_shape_gradients_and_masks(call: str, causal: bool) -> None:
    layer = layer_of(call, causal)
    x = torch.randn(2, 11, WIDTH, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (2, 11, WIDTH) and torch.isfinite(y).all()
    assert_gradients_flow(layer, y.square().sum())
    # padded keys never reach real positions, whatever their values
    mask = padding_mask()
    noisy = x.clone()
    noisy[~mask] = 10 * torch.randn(int((~mask).sum()), WIDTH, dtype=torch.float64)
    clean_out, noisy_out = layer(x, mask=mask), layer(noisy, mask=mask)
    assert torch.isfinite(noisy_out).all()
    torch.testing.assert_close(noisy_out[mask], clean_out[mask], atol=1e-6, rtol=0)


#: Layers whose real outputs cannot depend on trailing padding: linear attention (padded
#: keys have zero features) and Walsh-Hadamard LST while the padded length stays within the
#: same power of two (q, k, v are zeroed at padded positions after the projection). Softmax
#: attention holds too. DCT/DST/FFT heads do not: their transform length is the input's.
PADDING_FREE = [
    call
    for call in CASES
    if call.startswith(("attention", "spectral_attention", "performer", "kernel_attention"))
    or "hadamard" in call
]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("call", PADDING_FREE)
def test_trailing_padding_does_not_change_real_outputs(call: str, causal: bool) -> None:
    """The projection bias at padded positions must not leak into the mixing."""
    layer = layer_of(call, causal)
    x = torch.randn(2, 5, WIDTH, dtype=torch.float64)
    padded = torch.cat([x, 3 * torch.randn(2, 3, WIDTH, dtype=torch.float64)], dim=1)
    mask = torch.arange(8)[None, :].expand(2, -1) < 5
    torch.testing.assert_close(layer(padded, mask=mask)[:, :5], layer(x), atol=1e-12, rtol=0)


@pytest.mark.parametrize("call", CASES)
def test_causal_layers_are_exactly_causal(call: str) -> None:
    layer = layer_of(call, causal=True)
    assert layer.causal is True
    for n in (8, 11):
        assert_causal(layer, torch.randn(2, n, WIDTH, dtype=torch.float64))


@pytest.mark.parametrize("call", CASES)
def test_cost_formula_matches_module(call: str) -> None:
    for causal in (False, True):
        config = config_of(call, causal)
        for seq_len in (8, 13):
            assert_cost_matches(config, batch=2, seq_len=seq_len)
        expected = {"attention": "O(n^2)", "lst": "O(n^2)" if causal else "O(n log n)"}
        complexity = config.cost(specdsl.library.Dims(1, 64, WIDTH)).complexity
        assert complexity == expected.get(type(config).entry.family, "O(n)")


@pytest.mark.parametrize("call", CASES)
def test_dtype_follows_input_and_return_attention(call: str) -> None:
    layer = layer_of(call, dtype=torch.float32)
    x = torch.randn(2, 11, WIDTH)
    out32, out64 = layer(x), layer(x.double())
    assert out32.dtype == torch.float32
    assert out64.dtype == torch.float64
    torch.testing.assert_close(out64.float(), out32, atol=1e-4, rtol=1e-4)
    out, weights = layer(x, return_attention=True)
    torch.testing.assert_close(out, out32)
    assert weights is None or weights.shape == (2, layer.num_heads, 11, 11)


def test_every_case_compiles_and_runs_from_the_dsl() -> None:
    text = f'hidden_dim: {WIDTH}\nlayers: "repeat 2 [{", ".join(CASES)}]"'
    model = specdsl.compile(specdsl.parse(text))
    assert len(model.blocks) == 2 * len(CASES)
    out = model(inputs_embeds=torch.randn(2, 11, WIDTH), attention_mask=padding_mask())
    assert out.shape == (2, 11, WIDTH) and torch.isfinite(out).all()


def test_every_case_builds_on_the_meta_device() -> None:
    with torch.device("meta"):
        for call in CASES:
            layer = build(config_of(call))
            assert all(p.device.type == "meta" for p in layer.parameters())


def test_same_spec_and_seed_give_identical_weights_and_buffers() -> None:
    text = f'hidden_dim: {WIDTH}\nlayers: "{", ".join(CASES)}"'
    first, second = (specdsl.compile(specdsl.parse(text), seed=3).state_dict() for _ in range(2))
    other = specdsl.compile(specdsl.parse(text), seed=4).state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)
    omega = [key for key in first if key.endswith("omega")]
    assert omega and any(not torch.equal(first[key], other[key]) for key in omega)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lst(fft)", "transform_type"),
        ("attention(num_heads=5)", "divisible by num_heads (5)"),
        ("spectral_attention(kernel_type=gausian)", "did you mean 'gaussian'?"),
        ("kernel_attention(polinomial)", "did you mean 'polynomial'?"),
        ("performer(num_features=0)", "num_features"),
        ("lst(dct, dropout=1.5)", "dropout"),
    ],
)
def test_bad_values_are_spec_errors_with_a_position(text: str, message: str) -> None:
    with pytest.raises(specdsl.SpecError) as err:
        specdsl.parse(f'hidden_dim: 32\nlayers: "fourier, {text}"')
    problem = err.value.first
    assert message in str(err.value)
    assert (problem.line, problem.column) > (2, 17)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"hidden_dim": 16, "num_heads": 3}, "num_heads"),
        ({"hidden_dim": 16, "num_heads": -1}, "num_heads"),
        ({"hidden_dim": 16, "dropout": 1.0}, "dropout"),
    ],
)
def test_bad_constructor_arguments_name_the_argument(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        StandardAttention(**kwargs)


def test_bad_inputs_are_clear_errors() -> None:
    layer = StandardAttention(16, 4)
    with pytest.raises(ValueError, match="batch, seq_len, 16"):
        layer(torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match="mask must have shape"):
        layer(torch.randn(2, 5, 16), mask=torch.ones(2, 4, dtype=torch.bool))


# -- softmax attention against a dense float64 formula written here ---------------------


def rotate(x: torch.Tensor) -> torch.Tensor:
    """RoPE: channel pairs (i, i + d/2) of position p rotate by p * 10000^(-2i/d)."""
    n, d = x.shape[-2:]
    half = d // 2
    angle = torch.arange(n, dtype=torch.float64)[:, None] * 10000.0 ** (
        -2 * torch.arange(half, dtype=torch.float64) / d
    )
    pair = torch.complex(x[..., :half], x[..., half : 2 * half]) * torch.polar(
        torch.ones_like(angle), angle
    )
    return torch.cat([pair.real, pair.imag, x[..., 2 * half :]], dim=-1)


def dense_attention(
    layer: StandardAttention,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    causal: bool,
    positional: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    b, n, _ = x.shape
    h, d = layer.num_heads, layer.head_dim
    qkv = x @ layer.qkv.weight.T + layer.qkv.bias
    q, k, v = (
        qkv[..., i * h * d : (i + 1) * h * d].reshape(b, n, h, d).transpose(1, 2) for i in range(3)
    )
    if positional == "rotary":
        q, k = rotate(q), rotate(k)
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)
    if positional == "alibi":
        slopes = torch.tensor([2.0 ** (-8.0 * (i + 1) / h) for i in range(h)], dtype=torch.float64)
        distance = (torch.arange(n)[:, None] - torch.arange(n)[None, :]).abs()
        scores = scores - slopes[:, None, None] * distance
    allowed = torch.ones(b, 1, n, n, dtype=torch.bool)
    if mask is not None:
        allowed = allowed & mask[:, None, None, :]
    if causal:
        allowed = allowed & torch.ones(n, n, dtype=torch.bool).tril()
    weights = torch.softmax(scores.masked_fill(~allowed, -math.inf), dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(b, n, h * d)
    return out @ layer.out_proj.weight.T + layer.out_proj.bias, weights


@pytest.mark.parametrize("positional", ["none", "rotary", "alibi"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_softmax_attention_equals_dense_formula(
    positional: str, causal: bool, masked: bool
) -> None:
    layer = StandardAttention(16, 4, causal=causal).double()
    layer.positional = positional
    x = torch.randn(2, 11, 16, dtype=torch.float64)
    mask = padding_mask() if masked else None
    expected, weights = dense_attention(layer, x, mask, causal, positional)
    rows = mask if masked else torch.ones(2, 11, dtype=torch.bool)  # padded queries are free
    torch.testing.assert_close(layer(x, mask=mask)[rows], expected[rows], atol=1e-10, rtol=1e-10)
    out, returned = layer(x, mask=mask, return_attention=True)
    torch.testing.assert_close(out[rows], expected[rows], atol=1e-10, rtol=1e-10)
    keep = rows[:, None, :, None].expand_as(weights)
    torch.testing.assert_close(returned[keep], weights[keep], atol=1e-12, rtol=1e-10)


def test_rotary_scores_depend_on_relative_position_only() -> None:
    layer = StandardAttention(8, 1).double()
    layer.positional = "rotary"
    token = torch.randn(1, 1, 8, dtype=torch.float64)
    x = torch.cat([torch.randn(1, 3, 8, dtype=torch.float64), token, token], dim=1)
    shifted = torch.cat([torch.randn(1, 5, 8, dtype=torch.float64), token, token], dim=1)
    w1 = layer(x, return_attention=True)[1][0, 0]
    w2 = layer(shifted, return_attention=True)[1][0, 0]
    # the score of the last token on itself versus its predecessor is position-free
    ratio1 = w1[-1, -1] / w1[-1, -2]
    ratio2 = w2[-1, -1] / w2[-1, -2]
    torch.testing.assert_close(ratio1, ratio2)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize(("batch", "n", "width", "heads"), [(2, 37, 32, 4), (3, 20, 48, 2)])
def test_attention_keeps_what_its_formula_counts(batch, n, width, heads, dropout) -> None:
    """With dropout the explicit kernel keeps three (B, H, n, n) tensors; without, none."""
    config = StandardAttentionConfig(hidden_dim=width, num_heads=heads, dropout=dropout)
    held = held_for_backward(build(config), torch.randn(batch, n, width))
    assert held == config.cost(Dims(batch, n, width)).activation_bytes
