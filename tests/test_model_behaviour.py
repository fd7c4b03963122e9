"""Model-level guarantees through ``specdsl.compile(specdsl.parse(text))``.

Masks reach every mixer, heads have their documented shapes, positional encodings reach
attention, causal models are exactly causal, weights are deterministic, float64 works.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn

import specdsl
from specdsl.compiler import CompiledModel
from specdsl.compiler.heads import pool
from specdsl.library import REGISTRY
from specdsl.testing import assert_causal, assert_gradients_flow

D, B, N, MAX_LEN = 16, 2, 10, 32
COMPOSITES = ", ".join(
    [
        "parallel(attention(4))",
        "post_norm(lst(dct, num_heads=4))",
        "cascade(fourier, attention(4))",
        "multiscale(fourier, lst(dct, num_heads=4), fusion=add)",
        "multiscale(attention(4), fourier, fusion=concat)",
        "multiscale(fourier, attention(2), fusion=gate)",
        "adaptive(fourier, attention(4), gate=soft)",
        "adaptive(attention(4), lst(dct, num_heads=4), gate=hard)",
    ]
)
SMALL = "lst(dct, num_heads=4), multiscale(fourier, attention(4), fusion=gate)"
EVERY_MIXER = f"fourier, attention(num_heads=4), lst(dct, num_heads=4), {COMPOSITES}"
CAUSAL_LAYERS = ", ".join(
    [
        "attention(4)",
        "parallel(attention(4))",
        "post_norm(attention(2))",
        "cascade(attention(4), attention(2))",
        "multiscale(attention(4), attention(2), fusion=gate)",
        "multiscale(attention(4), attention(4), fusion=concat)",
        "adaptive(attention(4), attention(2), gate=hard)",
    ]
)
#: Every token mixer that declares it can be causal, with heads that divide the width.
CAUSAL_MIXERS = [
    f"{name}(num_heads=4)" if "num_heads" in entry.config.model_fields else name
    for name, entry in sorted(REGISTRY.items())
    if entry.kind == "mixer" and entry.causal is None
]


def spec_text(layers: str, **fields: object) -> str:
    values = {"hidden_dim": D, "max_sequence_length": MAX_LEN, **fields}
    lines = "".join(f"  {key} = {value}\n" for key, value in values.items())
    return f"model behaviour {{\n{lines}  layers = {layers}\n}}"


def model_of(layers: str, seed: int | None = None, **fields: object) -> CompiledModel:
    return specdsl.compile(specdsl.parse(spec_text(layers, **fields)), seed=seed).eval()


def padding_mask() -> Tensor:
    """Row 0 right-padded (last 3), row 1 left-padded (first 2)."""
    mask = torch.ones(B, N, dtype=torch.bool)
    mask[0, -3:] = False
    mask[1, :2] = False
    return mask


def scramble_padding(x: Tensor, mask: Tensor) -> Tensor:
    """``x`` with every padded position replaced by large random values."""
    return torch.where(mask.unsqueeze(-1), x, 100 * torch.randn_like(x))


def loss_of(out: Tensor) -> Tensor:
    return (out * torch.randn_like(out)).sum()


# -- attention_mask ------------------------------------------------------------------------


def test_padded_inputs_never_reach_real_positions() -> None:
    model = model_of(EVERY_MIXER, head="none", positional_encoding="learned")
    mask, x = padding_mask(), torch.randn(B, N, D)
    with torch.no_grad():
        clean = model(inputs_embeds=x, attention_mask=mask)
        scrambled = model(inputs_embeds=scramble_padding(x, mask), attention_mask=mask)
        unmasked = model(inputs_embeds=scramble_padding(x, mask))
    torch.testing.assert_close(scrambled[mask], clean[mask], rtol=0, atol=1e-6)
    assert (unmasked[mask] - clean[mask]).abs().max() > 1e-2  # without the mask they would leak


@pytest.mark.parametrize("pooling", ["cls", "mean", "max"])
def test_pooled_heads_ignore_padded_positions(pooling: str) -> None:
    head = f"classification(num_classes=3, pooling={pooling})"
    model = model_of(SMALL, head=head)
    mask, x = padding_mask(), torch.randn(B, N, D)
    with torch.no_grad():
        clean = model(inputs_embeds=x, attention_mask=mask)
        scrambled = model(inputs_embeds=scramble_padding(x, mask), attention_mask=mask)
    assert clean.shape == (B, 3)
    torch.testing.assert_close(scrambled, clean, rtol=0, atol=1e-6)


def test_pool_reference() -> None:
    x, mask = torch.randn(B, N, D, dtype=torch.float64), padding_mask()
    x[~mask] = float("nan")  # padded values must not reach any pooled result
    for row in range(B):
        real = x[row, mask[row]]
        torch.testing.assert_close(pool(x, mask, "mean")[row], real.mean(0))
        torch.testing.assert_close(pool(x, mask, "max")[row], real.max(0).values)
        torch.testing.assert_close(pool(x, mask, "cls")[row], real[0])
    empty = torch.zeros(B, N, dtype=torch.bool)
    for pooling in ("cls", "mean", "max"):
        assert torch.equal(pool(x.nan_to_num(), empty, pooling), torch.zeros(B, D, dtype=x.dtype))
    torch.testing.assert_close(pool(x.nan_to_num(), None, "mean"), x.nan_to_num().mean(1))
    with pytest.raises(ValueError, match="pooling must be one of cls, mean, max, got 'sum'"):
        pool(x, None, "sum")


# -- heads ---------------------------------------------------------------------------------

HEADS = [
    ("none", (B, N, D)),
    ("classification(num_classes=3, pooling=cls)", (B, 3)),
    ("classification(num_classes=3, pooling=mean)", (B, 3)),
    ("classification(num_classes=3, pooling=max)", (B, 3)),
    ("regression(num_classes=2)", (B, 2)),
    ("sequence(num_classes=5)", (B, N, 5)),
    ("lm", (B, N, 50)),
    ("lm(tie_weights=true)", (B, N, 50)),
]


@pytest.mark.parametrize(("head", "shape"), HEADS, ids=[h for h, _ in HEADS])
def test_head_shapes_and_gradients(head: str, shape: tuple[int, ...]) -> None:
    model = model_of("fourier, attention(num_heads=4)", head=head, vocab_size=50).train()
    ids = torch.randint(0, 50, (B, N))
    out = model(input_ids=ids, attention_mask=torch.ones(B, N, dtype=torch.long))
    assert out.shape == shape and out.dtype == torch.float32
    assert_gradients_flow(model, loss_of(out))


def test_tied_lm_head_shares_the_embedding_matrix() -> None:
    tied = model_of("fourier", head="lm(tie_weights=true)", vocab_size=50)
    untied = model_of("fourier", head="lm", vocab_size=50)
    assert tied.output_head.proj.weight is tied.embedding.weight
    assert untied.output_head.proj.weight is not untied.embedding.weight
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 50 * D
    ids = torch.randint(0, 50, (B, N))
    with torch.no_grad():
        hidden = tied.final_norm(tied.blocks[0](tied.positional(tied.embedding(ids))))
        torch.testing.assert_close(tied(input_ids=ids), hidden @ tied.embedding.weight.T)


def test_lm_logits_ignore_padded_token_ids() -> None:
    model = model_of(SMALL, head="lm", vocab_size=50)
    mask, ids = padding_mask(), torch.randint(0, 50, (B, N))
    other = torch.where(mask, ids, torch.randint(0, 50, (B, N)))
    with torch.no_grad():
        clean = model(input_ids=ids, attention_mask=mask)
        scrambled = model(input_ids=other, attention_mask=mask)
    torch.testing.assert_close(scrambled[mask], clean[mask], rtol=0, atol=1e-6)


# -- positional encodings ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sinusoidal", "learned", "rotary", "alibi", "none"])
def test_every_positional_encoding_runs(kind: str) -> None:
    model = model_of(
        "attention(4), adaptive(fourier, attention(2))", positional_encoding=kind
    ).train()
    out = model(inputs_embeds=torch.randn(B, N, D))
    assert out.shape == (B, N, D)
    assert_gradients_flow(model, loss_of(out))
    attentions = [model.blocks[0].mixer, model.blocks[1].mixers[1]]
    expected = kind if kind in ("rotary", "alibi") else "none"
    assert [a.positional for a in attentions] == [expected, expected]


def reference_attention(attn: nn.Module, x: Tensor, positional: str) -> Tensor:
    """Dense float64 multi-head attention with RoPE (half-split pairs) or ALiBi scores."""
    b, n, _ = x.shape
    h, d = attn.num_heads, attn.head_dim
    q, k, v = (x @ attn.qkv.weight.T + attn.qkv.bias).view(b, n, 3, h, d).permute(2, 0, 3, 1, 4)
    position = torch.arange(n, dtype=x.dtype)
    if positional == "rotary":
        angle = position[:, None] * 10000.0 ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)
        cos, sin = angle.cos(), angle.sin()

        def rotate(t: Tensor) -> Tensor:
            first, second = t[..., : d // 2], t[..., d // 2 :]
            return torch.cat((first * cos - second * sin, first * sin + second * cos), dim=-1)

        q, k = rotate(q), rotate(k)
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)
    if positional == "alibi":
        slopes = torch.tensor([2.0 ** (-8.0 * (i + 1) / h) for i in range(h)], dtype=x.dtype)
        scores = scores - slopes[:, None, None] * (position[:, None] - position[None, :]).abs()
    out = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, h * d)
    return out @ attn.out_proj.weight.T + attn.out_proj.bias


@pytest.mark.parametrize("kind", ["rotary", "alibi"])
def test_rotary_and_alibi_reach_attention_scores(kind: str) -> None:
    model = model_of("attention(num_heads=2)", positional_encoding=kind, seed=3).double()
    plain = model_of("attention(num_heads=2)", positional_encoding="none", seed=3).double()
    assert all(
        torch.equal(a, b) for a, b in zip(model.parameters(), plain.parameters(), strict=True)
    )
    x = torch.randn(B, N, D, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(
            model.blocks[0].mixer(x), reference_attention(model.blocks[0].mixer, x, kind)
        )
        assert (model(inputs_embeds=x) - plain(inputs_embeds=x)).abs().max() > 1e-3


def test_alibi_with_only_fourier_layers_is_refused() -> None:
    with pytest.raises(specdsl.SpecError) as caught:
        specdsl.parse(
            spec_text("repeat 2 [fourier, parallel(fourier)]", positional_encoding="alibi")
        )
    (problem,) = caught.value.problems
    assert "positional_encoding alibi acts inside attention scores" in problem.message
    assert problem.line == 5
    specdsl.parse(
        spec_text("fourier, parallel(attention)", positional_encoding="alibi")
    )  # accepted


def test_inputs_longer_than_max_sequence_length_are_refused() -> None:
    model = model_of("fourier", vocab_size=50)
    for kwargs in (
        {"inputs_embeds": torch.randn(1, MAX_LEN + 1, D)},
        {"input_ids": torch.zeros(1, 40, dtype=torch.long)},
    ):
        length = next(iter(kwargs.values())).shape[1]
        with pytest.raises(
            ValueError, match=f"sequence length {length} exceeds max_sequence_length {MAX_LEN}"
        ):
            model(**kwargs)
    assert model(inputs_embeds=torch.randn(1, MAX_LEN, D)).shape == (1, MAX_LEN, D)


def test_bad_attention_mask_shape_is_named() -> None:
    model = model_of("fourier")
    with pytest.raises(
        ValueError, match=r"attention_mask must have shape .* \(2, 10\), got \(2, 11\)"
    ):
        model(inputs_embeds=torch.randn(B, N, D), attention_mask=torch.ones(B, N + 1))


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    grads = []
    for flag in ("false", "true"):
        model = model_of(SMALL, seed=1, gradient_checkpointing=flag).train()
        assert model.gradient_checkpointing == (flag == "true")
        out = model(inputs_embeds=torch.ones(B, N, D), attention_mask=padding_mask())
        out.pow(2).sum().backward()
        grads.append([p.grad for p in model.parameters()])
    for plain, checkpointed in zip(*grads, strict=True):
        torch.testing.assert_close(checkpointed, plain)


# -- causality -----------------------------------------------------------------------------


def check_causal(model: nn.Module, n: int) -> None:
    """``assert_causal`` at the first, second, middle and last-but-one positions."""
    positions = [0, 1, n // 2, n - 2]
    assert_causal(lambda x: model(inputs_embeds=x), torch.randn(B, n, D), positions)


@pytest.mark.parametrize(("kind", "n"), [("sinusoidal", 8), ("rotary", 11), ("alibi", 12)])
def test_causal_models_are_exactly_causal(kind: str, n: int) -> None:
    model = model_of(CAUSAL_LAYERS, causal="true", positional_encoding=kind)
    assert all(m.causal for m in model.modules() if hasattr(m, "causal") and m is not model)
    check_causal(model, n)


@pytest.mark.parametrize("layer", CAUSAL_MIXERS)
def test_every_causal_capable_mixer_is_causal_end_to_end(layer: str) -> None:
    assert "attention(num_heads=4)" in CAUSAL_MIXERS
    model = model_of(f"{layer}, adaptive(attention(4), {layer})", causal="true")
    check_causal(model, 11)


def test_non_causal_model_fails_the_causality_check() -> None:
    model = model_of("attention(4), parallel(attention(4))", causal="false")
    with pytest.raises(AssertionError, match="depends on future positions"):
        check_causal(model, 8)


REFUSED = [
    ("fourier", 12),
    ("attention, parallel(fourier)", 32),
    ("cascade(attention, fourier)", 31),
    ("multiscale(attention, fourier, fusion=gate)", 34),
]


@pytest.mark.parametrize(("layers", "column"), REFUSED)
def test_causal_with_non_causal_mixers_is_refused(layers: str, column: int) -> None:
    with pytest.raises(specdsl.SpecError) as caught:
        specdsl.parse(spec_text(layers, causal="true"))
    (problem,) = caught.value.problems
    assert "layer 'fourier' cannot be causal: " in problem.message
    assert (problem.line, problem.column) == (5, column)


def test_causal_reason_names_why() -> None:
    with pytest.raises(
        specdsl.SpecError, match="the 2-D DFT mixes every position with every other"
    ):
        specdsl.parse(spec_text("fourier", causal="true"))


# -- determinism and dtype -----------------------------------------------------------------


def test_same_seed_gives_bit_identical_weights() -> None:
    spec = specdsl.parse(spec_text(SMALL, vocab_size=50, positional_encoding="learned"))
    first, second = (
        specdsl.compile(spec, seed=7).state_dict(),
        specdsl.compile(spec, seed=7).state_dict(),
    )
    other = specdsl.compile(spec, seed=8).state_dict()
    assert list(first) == list(second)
    assert all(torch.equal(first[key], second[key]) for key in first)
    differing = [key for key in first if not torch.equal(first[key], other[key])]
    assert "embedding.weight" in differing and len(differing) > len(first) // 3
    seeded = specdsl.parse(spec_text("fourier", vocab_size=50, seed=7))
    assert torch.equal(specdsl.compile(seeded).embedding.weight, first["embedding.weight"])


def test_float64_models_run_in_float64() -> None:
    model = model_of(
        EVERY_MIXER, head="classification(num_classes=3)", positional_encoding="rotary"
    )
    x = torch.randn(B, N, D)
    with torch.no_grad():
        single = model(inputs_embeds=x, attention_mask=padding_mask())
        double = model.double()(inputs_embeds=x.double(), attention_mask=padding_mask())
    assert double.dtype == torch.float64
    torch.testing.assert_close(double.float(), single, rtol=1e-4, atol=1e-4)
