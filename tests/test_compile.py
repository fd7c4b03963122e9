"""Graph and compiler: node counts, block order, shapes per head, gradients, determinism."""

import pytest
import torch

import specdsl
from specdsl.testing import assert_gradients_flow

BASE = "hidden_dim: 32\nmax_sequence_length: 40\nvocab_size: 50\n"


def test_graph_counts_nested_repeats() -> None:
    spec = specdsl.parse(
        BASE + "layers: repeat 2 [fourier, repeat 3 [attention(num_heads=4)]], lst"
    )
    graph = specdsl.to_graph(spec)
    blocks = [n for n, d in graph.nodes(data=True) if d["kind"] == "block"]
    assert len(blocks) == 9
    # input, embedding, positional, 9 blocks, final norm, head, output
    assert graph.number_of_nodes() == 3 + 9 + 3
    inner = graph.nodes["block1"]["groups"]
    assert [g[0] for g in inner] == ["0", "0.1"]
    assert graph.edges["block0", "block1"]["shape"] == "B x N x D"
    assert graph.edges["input", "embedding"]["shape"] == "B x N"


def test_hybrid_pattern_gives_twelve_blocks_in_order() -> None:
    model = specdsl.compile(specdsl.parse(BASE + "layers: repeat 6 [fourier, lst(dct)]"))
    kinds = [type(block.mixer).__name__ for block in model.blocks]
    assert kinds == ["FourierMixing", "LSTAttention"] * 6


@pytest.mark.parametrize(
    ("head", "shape"),
    [
        ("{type: none}", (2, 7, 32)),
        ("{type: classification, num_classes: 3, pooling: cls}", (2, 3)),
        ("{type: classification, num_classes: 3, pooling: max}", (2, 3)),
        ("{type: regression, num_classes: 1}", (2, 1)),
        ("{type: sequence, num_classes: 5}", (2, 7, 5)),
        ("{type: lm}", (2, 7, 50)),
    ],
)
def test_forward_shape_per_head(head: str, shape: tuple[int, ...]) -> None:
    model = specdsl.compile(
        specdsl.parse(BASE + f"head: {head}\nlayers: repeat 2 [fourier, attention(num_heads=4)]")
    )
    out = model(input_ids=torch.randint(0, 50, (2, 7)))
    assert out.shape == shape


def test_gradient_reaches_every_parameter() -> None:
    spec = specdsl.parse(
        BASE + "head: {type: classification, num_classes: 3}\n"
        "positional_encoding: learned\n"
        "layers: fourier, attention(num_heads=4), lst(hadamard, num_heads=4)"
    )
    model = specdsl.compile(spec)
    out = model(input_ids=torch.randint(0, 50, (2, 9)))
    assert_gradients_flow(model, out.square().sum())


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    spec = specdsl.parse(BASE + "layers: repeat 2 [attention(num_heads=4), lst]")
    a, b = specdsl.compile(spec, seed=3).state_dict(), specdsl.compile(spec, seed=3).state_dict()
    c = specdsl.compile(spec, seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_compile_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    specdsl.compile(specdsl.parse(BASE + "layers: attention(num_heads=4)"))
    assert torch.equal(torch.rand(3), expected)


def test_too_long_input_names_both_lengths() -> None:
    model = specdsl.compile(specdsl.parse(BASE + "layers: fourier"))
    with pytest.raises(ValueError, match=r"sequence length 41 exceeds max_sequence_length 40"):
        model(input_ids=torch.zeros(1, 41, dtype=torch.long))


def test_inputs_embeds_without_vocabulary() -> None:
    model = specdsl.load("hidden_dim: 16\nlayers: fourier")
    assert model.embedding is None
    assert model(inputs_embeds=torch.randn(2, 5, 16)).shape == (2, 5, 16)
    with pytest.raises(ValueError, match="inputs_embeds"):
        model(input_ids=torch.zeros(1, 3, dtype=torch.long))


def test_load_with_overrides_revalidates() -> None:
    model = specdsl.load(BASE + "layers: attention(num_heads=4)", overrides={"hidden_dim": 64})
    assert model.hidden_dim == 64
    with pytest.raises(specdsl.SpecError, match="divisible"):
        specdsl.load(BASE + "layers: attention(num_heads=4)", overrides={"hidden_dim": 30})
