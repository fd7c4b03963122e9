"""Composite blocks: language, float64 reference formulas, gradients and exact costs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn

import specdsl
from specdsl.compiler.blocks import Block
from specdsl.library import REGISTRY, Cost, Dims
from specdsl.library.attention import StandardAttentionConfig
from specdsl.library.blocks import (
    AdaptiveBlockConfig,
    BlockConfig,
    CascadeBlockConfig,
    MultiscaleBlockConfig,
    ParallelBlockConfig,
    PostNormBlockConfig,
    block_cost,
    ffn_cost,
    norm_cost,
    standard_block_cost,
)
from specdsl.library.blocks.modules import (
    AdaptiveBlock,
    CascadeBlock,
    MultiscaleBlock,
    ParallelBlock,
    PostNormBlock,
    TokenGate,
)
from specdsl.library.fourier import FourierMixingConfig
from specdsl.testing import assert_gradients_flow, build, count_matmul_flops

D, F, B, N = 16, 24, 2, 8
PATTERN = (
    "repeat 2 [cascade(fourier, lst(dct)), "
    "multiscale(fourier, attention(num_heads=4), fusion=concat)]"
)
TEXT = (
    f"model composite {{\n  hidden_dim = {D}\n  max_sequence_length = 32\n  layers = {PATTERN}\n}}"
)
YAML = f"""\
name: composite
hidden_dim: {D}
max_sequence_length: 32
layers:
  - repeat: 2
    layers:
      - cascade: [fourier, {{lst: {{transform_type: dct}}}}]
      - multiscale: {{layers: [fourier, {{attention: {{num_heads: 4}}}}], fusion: concat}}
"""
# Every composite block with every option, children chosen to exercise masks and heads.
EVERY_BLOCK = (
    "parallel(attention(num_heads=4)), post_norm(fourier), cascade(fourier, attention(4)), "
    "multiscale(fourier, attention(4), fusion=add), multiscale(fourier, lst(dct), fusion=gate), "
    "adaptive(fourier, attention(4), gate=soft), adaptive(attention(4), fourier, gate=hard)"
)


def spec_text(pattern: str, extra: str = "") -> str:
    head = f"model m {{\n  hidden_dim = {D}\n  max_sequence_length = 32\n"
    return f"{head}{extra}  layers = {pattern}\n}}"


def attention() -> nn.Module:
    return build(StandardAttentionConfig(hidden_dim=D, num_heads=4))


def fourier() -> nn.Module:
    return build(FourierMixingConfig(hidden_dim=D))


# -- float64 references: each formula written out with plain tensor algebra -----------------


def ref_linear(x: Tensor, layer: nn.Linear) -> Tensor:
    out = x @ layer.weight.T
    return out if layer.bias is None else out + layer.bias


def ref_norm(x: Tensor, norm: nn.Module) -> Tensor:
    centred = x - x.mean(dim=-1, keepdim=True)
    variance = (centred**2).mean(dim=-1, keepdim=True)
    return centred / torch.sqrt(variance + norm.eps) * norm.weight + norm.bias


def ref_ffn(x: Tensor, ffn: nn.Module) -> Tensor:
    hidden = ref_linear(x, ffn.fc1)
    return ref_linear(0.5 * hidden * (1.0 + torch.erf(hidden / math.sqrt(2.0))), ffn.fc2)


def ref_ffn_sublayer(x: Tensor, block: nn.Module) -> Tensor:
    return x + ref_ffn(ref_norm(x, block.norm2), block.ffn)


def ref_gate(h: Tensor, gate: TokenGate) -> Tensor:
    logits = ref_linear(h, gate.proj)
    weights = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
    weights = weights / weights.sum(dim=-1, keepdim=True)
    if gate.hard:
        weights = (weights == weights.amax(dim=-1, keepdim=True)).to(h.dtype)
    return weights


def ref_weighted(outputs: list[Tensor], weights: Tensor) -> Tensor:
    return sum(weights[..., i : i + 1] * out for i, out in enumerate(outputs))


def ref_parallel(block: ParallelBlock, x: Tensor) -> Tensor:
    h = ref_norm(x, block.norm1)
    return x + block.mixers[0](h) + ref_ffn(h, block.ffn)


def ref_post_norm(block: PostNormBlock, x: Tensor) -> Tensor:
    x = ref_norm(x + block.mixers[0](x), block.norm1)
    return ref_norm(x + ref_ffn(x, block.ffn), block.norm2)


def ref_cascade(block: CascadeBlock, x: Tensor) -> Tensor:
    h = ref_norm(x, block.norm1)
    for mixer in block.mixers:
        h = mixer(h)
    return ref_ffn_sublayer(x + h, block)


def ref_multiscale(block: MultiscaleBlock, x: Tensor) -> Tensor:
    h = ref_norm(x, block.norm1)
    outputs = [mixer(h) for mixer in block.mixers]
    if block.fusion == "concat":
        mixed = ref_linear(torch.cat(outputs, dim=-1), block.fuse_proj)
    elif block.fusion == "gate":
        mixed = ref_weighted(outputs, ref_gate(h, block.gate))
    else:
        mixed = sum(outputs)
    return ref_ffn_sublayer(x + mixed, block)


def ref_adaptive(block: AdaptiveBlock, x: Tensor) -> Tensor:
    h = ref_norm(x, block.norm1)
    mixed = ref_weighted([mixer(h) for mixer in block.mixers], ref_gate(h, block.gate))
    return ref_ffn_sublayer(x + mixed, block)


CASES: list[tuple[str, Callable[[], nn.Module], Callable[[nn.Module, Tensor], Tensor]]] = [
    ("parallel", lambda: ParallelBlock([attention()], D, F), ref_parallel),
    ("post_norm", lambda: PostNormBlock([attention()], D, F), ref_post_norm),
    ("cascade", lambda: CascadeBlock([fourier(), attention(), fourier()], D, F), ref_cascade),
    (
        "ms-add",
        lambda: MultiscaleBlock([fourier(), attention()], D, F, fusion="add"),
        ref_multiscale,
    ),
    (
        "ms-concat",
        lambda: MultiscaleBlock([fourier(), attention()], D, F, fusion="concat"),
        ref_multiscale,
    ),
    (
        "ms-gate",
        lambda: MultiscaleBlock([fourier(), attention(), fourier()], D, F, fusion="gate"),
        ref_multiscale,
    ),
    ("ad-soft", lambda: AdaptiveBlock([fourier(), attention()], D, F, gate="soft"), ref_adaptive),
    ("ad-hard", lambda: AdaptiveBlock([fourier(), attention()], D, F, gate="hard"), ref_adaptive),
]


@pytest.mark.parametrize(("name", "make", "reference"), CASES, ids=[c[0] for c in CASES])
def test_block_matches_float64_reference(name: str, make: Callable, reference: Callable) -> None:
    block = make().double().eval()
    x = torch.randn(B, N, D, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(block(x), reference(block, x), rtol=1e-10, atol=1e-10)


def test_hard_gate_is_one_hot_forward_and_softmax_backward() -> None:
    hard, soft = TokenGate(D, 3, hard=True), TokenGate(D, 3)
    soft.load_state_dict(hard.state_dict())
    h = torch.randn(B, N, D, requires_grad=True)
    weights = hard(h)
    assert set(weights.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(weights.sum(-1), torch.ones(B, N))
    probe = torch.randn(B, N, 3)
    (grad_hard,) = torch.autograd.grad((hard(h) * probe).sum(), h)
    (grad_soft,) = torch.autograd.grad((soft(h) * probe).sum(), h)
    torch.testing.assert_close(grad_hard, grad_soft)
    assert grad_hard.abs().sum() > 0


def test_hard_adaptive_block_outputs_the_chosen_mixer_exactly() -> None:
    block = AdaptiveBlock([fourier(), attention()], D, F, gate="hard").eval()
    h = torch.randn(B, N, D)
    with torch.no_grad():
        chosen = block.gate.proj(h).argmax(-1, keepdim=True)
        expected = torch.where(chosen == 0, block.mixers[0](h), block.mixers[1](h))
        assert torch.equal(block.mix_tokens(h, None), expected)
        assert 0 < chosen.sum() < chosen.numel()  # both mixers chosen somewhere


# -- the language ------------------------------------------------------------------------


def test_text_and_yaml_forms_give_the_same_spec() -> None:
    text, yaml = specdsl.parse(TEXT), specdsl.parse(YAML)
    assert text == yaml
    cascade, multiscale = text.layers[0].layers
    assert [c.type for c in cascade.layers] == ["fourier", "lst"]
    assert cascade.layers[1].args == {"transform_type": "dct"}
    assert multiscale.args == {"fusion": "concat"}
    assert [c.type for c in multiscale.layers] == ["fourier", "attention"]


@pytest.mark.parametrize("source", [TEXT, YAML], ids=["text", "yaml"])
def test_composites_compile_and_train(source: str) -> None:
    model = specdsl.compile(specdsl.parse(source))
    kinds = [type(block).__name__ for block in model.blocks]
    assert kinds == ["CascadeBlock", "MultiscaleBlock"] * 2
    assert model.blocks[1].fusion == "concat"
    out = model(inputs_embeds=torch.randn(B, N, D))
    assert out.shape == (B, N, D)
    assert_gradients_flow(model, (out * torch.randn_like(out)).sum())


def test_every_composite_option_compiles_and_gradients_reach_every_parameter() -> None:
    model = specdsl.compile(specdsl.parse(spec_text(EVERY_BLOCK)))
    names = [type(block).__name__ for block in model.blocks]
    assert (
        names
        == ["ParallelBlock", "PostNormBlock", "CascadeBlock"]
        + ["MultiscaleBlock"] * 2
        + ["AdaptiveBlock"] * 2
    )
    assert model.blocks[-1].gate.hard and not model.blocks[-2].gate.hard
    x = torch.randn(B, N, D)
    out = model(inputs_embeds=x, attention_mask=torch.ones(B, N))
    assert_gradients_flow(model, (out * torch.randn_like(out)).sum())


def test_block_options_and_defaults_reach_composites() -> None:
    pattern = "multiscale(fourier, fourier, ffn_hidden_dim=40, norm_eps=0.01), parallel(fourier)"
    extra = "  defaults = [multiscale(fusion=gate)]\n"
    model = specdsl.compile(specdsl.parse(spec_text(pattern, extra)))
    multiscale, parallel = model.blocks
    assert multiscale.fusion == "gate" and multiscale.ffn.fc1.out_features == 40
    assert multiscale.norm1.eps == 0.01
    assert parallel.ffn.fc1.out_features == 4 * D


@pytest.mark.parametrize(
    ("pattern", "problems"),
    [
        ("parallel()", [(4, 5, "parallel takes 1 layer, got 0")]),
        ("parallel(fourier, fourier)", [(4, 5, "parallel takes 1 layer, got 2")]),
        (
            "multiscale(fourier, fusion=max)",
            [(4, 5, "takes 2 to 8 layers, got 1"), (4, 32, "'add', 'concat' or 'gate'")],
        ),
        (
            "cascade(parallel(fourier))",
            [(4, 5, "takes 2 to 8 layers"), (4, 13, "parallel is a block")],
        ),
        ("adaptive(fourier, fourier, gate=maybe)", [(4, 37, "'soft' or 'hard'")]),
        ("adaptive(fourier, fourir)", [(4, 23, "unknown layer 'fourir'")]),
    ],
)
def test_bad_composite_usage_is_located(pattern: str, problems: list[tuple[int, int, str]]) -> None:
    text = f"model m {{\n  hidden_dim = {D}\n  layers = repeat 2 [fourier,\n    {pattern}]\n}}"
    with pytest.raises(specdsl.SpecError) as caught:
        specdsl.parse(text)
    found = caught.value.problems
    assert len(found) == len(problems), str(caught.value)
    for problem, (line, column, message) in zip(found, problems, strict=True):
        assert (problem.line, problem.column) == (line, column), str(problem)
        assert message in problem.message


def test_bad_composite_usage_in_yaml_is_located() -> None:
    text = "hidden_dim: 16\nlayers:\n  - multiscale: {layers: [fourier], fusion: max}\n"
    with pytest.raises(specdsl.SpecError) as caught:
        specdsl.parse(text)
    assert [(p.line, "fusion" in p.message) for p in caught.value.problems] == [
        (3, False),
        (3, True),
    ]


def test_direct_construction_errors_name_the_argument() -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: MultiscaleBlock([fourier(), fourier()], D, fusion="max"), "fusion must be one of"),
        (lambda: AdaptiveBlock([fourier(), fourier()], D, gate="maybe"), "gate must be one of"),
        (lambda: ParallelBlock([fourier(), fourier()], D), "takes 1, got 2"),
        (lambda: CascadeBlock([fourier()], D), "takes 2 to 8, got 1"),
        (lambda: ParallelBlock([fourier()], 0), "hidden_dim must be a positive integer"),
        (lambda: ParallelBlock([fourier()], D, ffn_hidden_dim=-3), "ffn_hidden_dim must be"),
        (lambda: ParallelBlock([fourier()], D, dropout=1.5), "dropout must be in [0, 1)"),
        (lambda: ParallelBlock([fourier()], D, norm_eps=0.0), "norm_eps must be > 0"),
        (lambda: ParallelBlock(["fourier"], D), "mixers must be torch.nn.Module"),  # type: ignore[list-item]
        (lambda: MultiscaleBlockConfig(fusion="max"), "fusion"),
        (lambda: ParallelBlockConfig(extra=1), "extra"),
        (lambda: ffn_cost(Dims(1, 4, D), 0), "ffn_hidden_dim must be a positive integer"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            make()


def test_registry_entries() -> None:
    expected = {"parallel": (1, 1), "post_norm": (1, 1), "cascade": (2, 8), "multiscale": (2, 8)}
    expected["adaptive"] = (2, 2)
    for name, children in expected.items():
        entry = REGISTRY[name]
        assert (entry.kind, entry.family, entry.children) == ("block", "block", children)
        assert entry.causal is None  # causal exactly when the children are
        assert (
            issubclass(entry.config, BlockConfig)
            and entry.load_module().config_class is entry.config
        )
    import specdsl.config
    import specdsl.layers

    assert specdsl.config.MultiscaleBlockConfig is MultiscaleBlockConfig
    assert specdsl.layers.AdaptiveBlock is AdaptiveBlock


# -- costs -------------------------------------------------------------------------------


def measured(module: nn.Module) -> tuple[int, int]:
    x = torch.randn(B, N, D)
    with torch.no_grad():
        flops = count_matmul_flops(lambda: module(x))
    return sum(p.numel() for p in module.parameters()), flops


CHILDREN = {
    "fourier": FourierMixingConfig(hidden_dim=D),
    "attention": StandardAttentionConfig(hidden_dim=D, num_heads=4),
}
COST_CASES: list[tuple[BlockConfig, list[str]]] = [
    (ParallelBlockConfig(), ["attention"]),
    (PostNormBlockConfig(), ["attention"]),
    (CascadeBlockConfig(), ["fourier", "attention", "attention"]),
    (MultiscaleBlockConfig(fusion="add"), ["fourier", "attention"]),
    (MultiscaleBlockConfig(fusion="concat"), ["fourier", "attention", "attention"]),
    (MultiscaleBlockConfig(fusion="gate"), ["attention", "fourier", "attention"]),
    (AdaptiveBlockConfig(gate="soft"), ["fourier", "attention"]),
    (AdaptiveBlockConfig(gate="hard"), ["attention", "attention"]),
]


@pytest.mark.parametrize(
    ("config", "children"),
    COST_CASES,
    ids=[
        f"{c.entry.name}-{'-'.join(map(str, c.model_dump().values()))}-{len(k)}"
        for c, k in COST_CASES
    ],
)
def test_block_cost_is_exact(config: BlockConfig, children: list[str]) -> None:
    mixers = [build(CHILDREN[name]) for name in children]
    module = (
        type(config)
        .entry.load_module()
        .from_config(
            config, mixers=mixers, hidden_dim=D, ffn_hidden_dim=F, dropout=0.0, norm_eps=1e-5
        )
    )
    dims = Dims(batch=B, seq_len=N, hidden_dim=D)
    cost = block_cost(config, dims, [CHILDREN[name].cost(dims) for name in children], F)
    assert (cost.params, cost.matmul_flops) == measured(module)
    assert cost.complexity == "O(n^2)"
    assert cost.other_flops > 0 and cost.activation_bytes > 0
    own = config.cost(dims, ffn_hidden_dim=F, num_mixers=len(children))
    assert own.params == sum(p.numel() for p in module.parameters()) - sum(
        p.numel() for p in module.mixers.parameters()
    )


def test_standard_block_cost_is_exact() -> None:
    config = CHILDREN["attention"]
    dims = Dims(batch=B, seq_len=N, hidden_dim=D)
    block = Block(build(config), hidden_dim=D, ffn_hidden_dim=F, dropout=0.0, norm_eps=1e-5)
    cost = standard_block_cost(dims, config.cost(dims), F)
    assert (cost.params, cost.matmul_flops) == measured(block)
    assert norm_cost(dims).params == 2 * D
    assert ffn_cost(dims, F).params == D * F + F + F * D + D
    assert ffn_cost(dims, F).matmul_flops == 2 * B * N * D * F * 2
    fourier_block = standard_block_cost(dims, CHILDREN["fourier"].cost(dims), F)
    assert fourier_block.complexity == "O(n log n)"


def test_block_cost_defaults_and_bounds() -> None:
    dims = Dims(batch=1, seq_len=4, hidden_dim=D)
    default = MultiscaleBlockConfig(fusion="concat").cost(dims)
    assert default == MultiscaleBlockConfig(fusion="concat").cost(dims, 4 * D, 2)
    with pytest.raises(ValueError, match="num_mixers: adaptive takes 2, got 3"):
        AdaptiveBlockConfig().cost(dims, num_mixers=3)
    assert block_cost(ParallelBlockConfig(), dims, [Cost()], F).complexity == "O(n)"
