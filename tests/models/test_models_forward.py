"""Every documented model builds at a small size, runs forward and backward for each head,
and is exactly the model its own spec compiles to."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import specdsl
from specdsl.models.catalog import model_class
from specdsl.testing import assert_gradients_flow

BATCH, LENGTH, VOCAB = 2, 16, 50

#: output_type -> (extra constructor arguments, expected output shape).
HEADS = {
    "classification": ({"num_classes": 3}, (BATCH, 3)),
    "regression": ({}, (BATCH, 1)),
    "sequence": ({"num_classes": 5}, (BATCH, LENGTH, 5)),
    "lm": ({"vocab_size": VOCAB}, (BATCH, LENGTH, VOCAB)),
    "none": ({}, (BATCH, LENGTH, 32)),
}


def run(model: nn.Module) -> torch.Tensor:
    """Forward on token ids when the model has a vocabulary, else on embeddings."""
    if model.embedding is not None:
        tokens = torch.randint(0, model.embedding.num_embeddings, (BATCH, LENGTH))
        return model(input_ids=tokens)
    return model(inputs_embeds=torch.randn(BATCH, LENGTH, model.hidden_dim))


@pytest.mark.parametrize("output_type", sorted(HEADS))
def test_every_head_runs_forward_and_backward(headed_model, output_type, build):
    extra, shape = HEADS[output_type]
    model = build(headed_model, output_type=output_type, **extra).eval()
    out = run(model)
    assert out.shape == shape
    assert torch.isfinite(out).all()
    assert_gradients_flow(model, out.square().mean())


def test_default_head_runs_forward_and_backward(model_name, build):
    model = build(model_name).eval()
    out = run(model)
    expected = {
        "none": (BATCH, LENGTH, 32),
        "lm": (BATCH, LENGTH, VOCAB),
    }[model.output_type]
    assert out.shape == expected
    assert_gradients_flow(model, out.square().mean())


def test_model_is_its_compiled_spec(model_name, build):
    model = build(model_name)
    compiled = specdsl.compile(model.spec)
    mine, theirs = model.state_dict(), compiled.state_dict()
    assert list(mine) == list(theirs)
    for key, value in mine.items():
        assert torch.equal(value, theirs[key]), key
    estimate = specdsl.estimate(model.spec, seq_len=LENGTH)
    assert estimate.params == sum(p.numel() for p in model.parameters())


def test_documented_attributes(model_name, build, arguments):
    args = arguments(model_name)
    model = build(model_name)
    assert isinstance(model, specdsl.models.SpecModel)
    assert isinstance(model.blocks, nn.ModuleList)
    assert len(model.blocks) == model.num_layers == args["num_layers"]
    assert model.hidden_dim == args["hidden_dim"]
    assert model.max_sequence_length == args["max_sequence_length"]
    ratio = 2 if model_name.startswith("FNO") else 4  # FNO: mlp_ratio 2.0 sizes the MLP
    assert model.ffn_hidden_dim == ratio * args["hidden_dim"]
    assert isinstance(model.output_head, nn.Module)
    assert model.gradient_checkpointing is False
    if "vocab_size" in args:
        assert isinstance(model.embedding, nn.Embedding)
        assert model.embedding.num_embeddings == args["vocab_size"]
    else:
        assert model.embedding is None


def test_token_embedding_when_vocab_size_is_set(build):
    model = build("FNet", vocab_size=VOCAB, num_classes=2)
    assert isinstance(model.embedding, nn.Embedding)
    assert run(model).shape == (BATCH, 2)


def test_real_and_complex_fft_fnet_compute_the_same_function(build):
    real = build("FNetEncoder", use_real_fft=True).eval()
    complex_fft = build("FNetEncoder", use_real_fft=False).eval()
    assert real.use_real_fft and not complex_fft.use_real_fft
    x = torch.randn(BATCH, LENGTH, 32)
    torch.testing.assert_close(real(inputs_embeds=x), complex_fft(inputs_embeds=x))


def test_gradient_checkpointing_trains(build):
    model = build("HybridTransformer", gradient_checkpointing=True, num_classes=3).train()
    assert model.gradient_checkpointing
    assert model.spec.gradient_checkpointing
    out = run(model)
    assert_gradients_flow(model, out.square().mean())


def test_same_arguments_and_seed_give_the_same_weights():
    cls = model_class("LSTTransformer")
    first = cls(hidden_dim=32, num_layers=2, max_sequence_length=16, seed=3)
    second = cls(hidden_dim=32, num_layers=2, max_sequence_length=16, seed=3)
    other = cls(hidden_dim=32, num_layers=2, max_sequence_length=16, seed=4)
    assert first.spec.seed == 3
    weights = [m.blocks[0].ffn.fc1.weight for m in (first, second, other)]
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])


def test_decoders_are_causal(build):
    for name in ("LSTDecoder", "WaveletDecoder", "FNODecoder"):
        model = build(name).eval()
        assert model.causal and model.spec.causal
        embeds = torch.randn(1, LENGTH, 32, requires_grad=True)
        out = model(inputs_embeds=embeds)
        (grad,) = torch.autograd.grad(out[:, 5].sum(), embeds)
        assert torch.count_nonzero(grad[:, 6:]) == 0, name
        assert torch.count_nonzero(grad[:, :6]) > 0, name
