"""Hidden states kept in a mixer's token order across blocks (specdsl.compiler.token_order)."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

import specdsl
from specdsl.compiler import CompiledModel
from specdsl.compiler.token_order import block_order, permute_tokens

D, B = 16, 2


def model_of(layers: str, n: int, **fields: object) -> CompiledModel:
    values = {"hidden_dim": D, "max_sequence_length": n, **fields}
    lines = "".join(f"  {key} = {value}\n" for key, value in values.items())
    text = f"model order {{\n{lines}  layers = {layers}\n}}"
    return specdsl.compile(specdsl.parse(text), seed=0).double().eval()


def embedded(model: CompiledModel, x: Tensor) -> Tensor:
    """What the model's first block receives."""
    return model.dropout(model.positional(x) if model.positional is not None else x)


def block_by_block(model: CompiledModel, x: Tensor, mask: Tensor | None = None) -> Tensor:
    """The model's forward with every block in natural order (no token order at all)."""
    h = embedded(model, x)
    for block in model.blocks:
        h = block(h, mask)
    return model.output_head(model.final_norm(h), mask)


def gathers(model: CompiledModel, x: Tensor, mask: Tensor | None = None) -> int:
    with torch.profiler.profile() as prof:
        model(inputs_embeds=x, attention_mask=mask)
    return sum(event.name == "aten::index_select" for event in prof.events())


STACKS = [
    ("repeat 3 [lst(dct, num_heads=4)]", 2),
    ("repeat 2 [lst(dst, num_heads=4)]", 2),
    ("lst(mixed, num_heads=4), lst(dct, num_heads=4)", 2),
    ("lst(dct, num_heads=4), fourier, lst(dst, num_heads=4)", 4),
    ("fourier, lst(hadamard, num_heads=4)", 0),
]


@pytest.mark.parametrize(("layers", "expected"), STACKS, ids=[s for s, _ in STACKS])
def test_permuted_once_per_run_of_blocks_with_the_same_values(layers, expected) -> None:
    n = 16
    model = model_of(layers, n)
    x = torch.randn(B, n, D, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(model(inputs_embeds=x), block_by_block(model, x))
        assert gathers(model, x) == expected  # two per block before


def test_masks_follow_the_order_and_gradients_match() -> None:
    n = 16
    model = model_of("repeat 2 [lst(dst, num_heads=4)]", n).train()
    mask = torch.ones(B, n, dtype=torch.bool)
    mask[0, -5:] = False
    x = torch.randn(B, n, D, dtype=torch.float64)
    results = []
    for forward in (
        lambda: model(inputs_embeds=x, attention_mask=mask),
        lambda: block_by_block(model, x, mask),
    ):
        model.zero_grad()
        out = forward()
        out.pow(2).sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    (out, grads), (expected, expected_grads) = results
    torch.testing.assert_close(out, expected)
    for grad, reference in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, reference)


def test_gradient_checkpointing_runs_blocks_in_their_order() -> None:
    n = 8
    grads = []
    for flag in ("false", "true"):
        model = model_of("repeat 2 [lst(dct, num_heads=4)]", n, gradient_checkpointing=flag)
        model.train()(inputs_embeds=torch.ones(B, n, D, dtype=torch.float64)).sum().backward()
        grads.append([p.grad for p in model.parameters()])
    for plain, checkpointed in zip(*grads, strict=True):
        torch.testing.assert_close(checkpointed, plain)


def test_hooks_see_natural_order() -> None:
    n = 16
    model = model_of("repeat 2 [lst(dct, num_heads=4)]", n)
    x = torch.randn(B, n, D, dtype=torch.float64)
    seen: list[Tensor] = []
    model.blocks[1].mixer.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    with torch.no_grad():
        out = model(inputs_embeds=x)
        h = model.blocks[0](embedded(model, x))  # natural order throughout
    assert block_order(model.blocks[1], n) is None and block_order(model.blocks[0], n) == "makhoul"
    torch.testing.assert_close(seen[0], model.blocks[1].norm1(h))
    torch.testing.assert_close(out, block_by_block(model, x))


def test_orders_only_where_every_head_is_in_makhoul_order() -> None:
    dct = model_of("lst(dct, num_heads=4)", 12).blocks[0]
    mixed = model_of("lst(mixed, num_heads=4)", 12).blocks[0]  # 12: Hadamard stays natural
    causal = model_of("lst(dct, num_heads=4)", 16, causal="true").blocks[0]
    assert block_order(dct, 12) == "makhoul" and block_order(mixed, 12) is None
    assert block_order(mixed, 16) == "makhoul" and block_order(causal, 16) is None
    with pytest.raises(ValueError, match="token_order"):
        mixed.mixer(torch.randn(1, 12, D, dtype=torch.float64), token_order="makhoul")


def test_permute_tokens_round_trip() -> None:
    x, mask = torch.randn(3, 7, 2), torch.rand(3, 7) > 0.5
    there, there_mask = permute_tokens(x, mask, None, "makhoul")
    assert torch.equal(there[:, 1], x[:, 2]) and torch.equal(there[:, -1], x[:, 1])
    back, back_mask = permute_tokens(there, there_mask, "makhoul", None)
    assert torch.equal(back, x) and back_mask is not None and torch.equal(back_mask, mask)
