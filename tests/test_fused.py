"""The fused inference path of linear layers: same values, taken only where it may be."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from specdsl.compiler.blocks import Block, FeedForward
from specdsl.library import fused
from specdsl.library.fused import can_fuse, fused_linear, onednn_linear_available, scale_temporary

needs_onednn = pytest.mark.skipif(
    not onednn_linear_available(), reason="this torch build has no oneDNN linear kernel"
)
ACTIVATIONS = [None, nn.GELU(), nn.GELU(approximate="tanh"), nn.ReLU(), nn.SiLU()]


@pytest.fixture(autouse=True)
def fuse_every_size(monkeypatch):
    """The tests use small products: let them reach the fused kernel all the same (the
    size threshold has its own test)."""
    monkeypatch.setattr(fused, "FUSE_MIN_OUTPUTS", 0)


def unfused(x: torch.Tensor, linear: nn.Linear, activation: nn.Module | None) -> torch.Tensor:
    out = x.double() @ linear.weight.double().T
    if linear.bias is not None:
        out = out + linear.bias.double()
    return out if activation is None else activation(out)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3, 7, 12), (5, 12), (0, 4, 12)])
def test_fused_linear_matches_float64(activation, bias, shape) -> None:
    torch.manual_seed(0)
    linear = nn.Linear(12, 20, bias=bias)
    x = torch.randn(*shape)
    with torch.no_grad():
        out = fused_linear(x, linear, activation)
        expected = unfused(x, linear, activation)
    assert out.shape == (*shape[:-1], 20) and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", [None, nn.GELU(), nn.ReLU()], ids=repr)
@pytest.mark.parametrize("grad", [False, True])
def test_residual_is_added_to_the_output(activation, grad) -> None:
    torch.manual_seed(2)
    linear = nn.Linear(12, 20)
    x, residual = torch.randn(3, 7, 12), torch.randn(7, 3, 20).transpose(0, 1)  # strided
    kept = residual.clone()
    with torch.set_grad_enabled(grad):
        out = fused_linear(x, linear, activation, residual=residual)
    expected = unfused(x, linear, activation) + residual.double()
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(residual, kept)  # the caller's tensor is untouched


@needs_onednn
def test_residual_runs_inside_the_product_without_autograd() -> None:
    linear, x, residual = nn.Linear(8, 4), torch.randn(5, 8), torch.randn(5, 4)
    with torch.no_grad(), torch.profiler.profile() as prof:
        fused_linear(x, linear, residual=residual)
    kernels = {event.name for event in prof.events()}
    assert "mkldnn::_linear_pointwise" in kernels and not kernels & {"aten::add", "aten::add_"}


@pytest.mark.parametrize("grad", [False, True])
def test_block_adds_the_feed_forward_residual(grad) -> None:
    torch.manual_seed(3)
    block = Block(nn.Identity(), 16, 32, dropout=0.1, norm_eps=1e-5).eval()
    x = torch.randn(2, 5, 16)
    reference = copy.deepcopy(block).double()
    x1 = x.double() + reference.norm1(x.double())
    expected = x1 + reference.ffn(reference.norm2(x1))
    with torch.set_grad_enabled(grad):
        out = block(x)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


def test_non_contiguous_input_and_float64_weights() -> None:
    linear = nn.Linear(6, 4).double()
    x = torch.randn(6, 5, 3).transpose(0, 2)  # (3, 5, 6), strided
    with torch.no_grad():
        out = fused_linear(x, linear, nn.GELU())  # runs in the input's dtype
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), unfused(x, linear, nn.GELU()), rtol=1e-5, atol=1e-5)


def test_builds_without_the_onednn_kernel_take_the_plain_path(monkeypatch) -> None:
    import types

    monkeypatch.setattr(torch.ops, "mkldnn", types.SimpleNamespace())  # no such op at all
    fused.onednn_linear_available.cache_clear()
    try:
        assert not fused.onednn_linear_available()
        linear, x, residual = nn.Linear(8, 4), torch.randn(5, 8), torch.randn(5, 4)
        with torch.no_grad():
            for activation in (None, nn.GELU()):
                out = fused_linear(x, linear, activation, residual=residual)
                expected = unfused(x, linear, activation) + residual.double()
                torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    finally:
        fused.onednn_linear_available.cache_clear()


@needs_onednn
def test_fusion_only_without_autograd_or_inspection() -> None:
    x, weight = torch.randn(2, 3), torch.randn(4, 3)
    assert not can_fuse(x, weight)  # autograd on
    with torch.no_grad():
        assert can_fuse(x, weight)
        assert not can_fuse(x.double(), weight.double())
        with FlopCounterMode(display=False):  # FLOP counting sees plain products
            assert not can_fuse(x, weight)


@needs_onednn
def test_feed_forward_inference_runs_the_fused_kernel_with_training_values() -> None:
    torch.manual_seed(1)
    ffn = FeedForward(16, 64).eval()
    x = torch.randn(2, 9, 16, requires_grad=True)
    with_grad = ffn(x)
    with_grad.sum().backward()  # the gradient path is the plain one
    assert x.grad is not None and x.grad.abs().sum() > 0
    with torch.no_grad(), torch.profiler.profile() as prof:
        inference = ffn(x)
    kernels = {event.name for event in prof.events()}
    assert "mkldnn::_linear_pointwise" in kernels and "aten::addmm" not in kernels
    torch.testing.assert_close(inference, with_grad.detach(), rtol=1e-5, atol=1e-6)


@needs_onednn
def test_flop_counter_counts_feed_forward_under_no_grad() -> None:
    ffn = FeedForward(8, 32)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        ffn(torch.randn(3, 8))
    assert counter.get_total_flops() == 2 * (2 * 3 * 8 * 32)


@needs_onednn
def test_traced_graphs_hold_plain_linear_ops() -> None:
    ffn = FeedForward(8, 16).eval()
    with torch.no_grad():
        traced = torch.jit.trace(ffn, torch.randn(2, 3, 8))
    kinds = {node.kind() for node in traced.inlined_graph.nodes()}
    assert "aten::linear" in kinds and not any("mkldnn" in kind for kind in kinds)


def test_scale_temporary_overwrites_only_what_autograd_does_not_record() -> None:
    values, factor = torch.randn(4, 3), torch.randn(3)
    expected = values * factor
    with torch.no_grad():
        frozen = values.clone()
        assert scale_temporary(frozen, factor) is frozen and torch.equal(frozen, expected)
    plain = values.clone()  # grad mode on, but nothing requires grad: still in place
    assert scale_temporary(plain, factor) is plain
    weight = factor.clone().requires_grad_()
    kept = values.clone()
    out = scale_temporary(kept, weight)
    assert out is not kept and torch.equal(kept, values)  # autograd needs kept unchanged
    out.sum().backward()
    assert weight.grad is not None and torch.allclose(weight.grad, values.sum(0))


@needs_onednn
def test_small_products_take_the_plain_path(monkeypatch) -> None:
    """Below ``FUSE_MIN_OUTPUTS`` output numbers the oneDNN call costs more than it saves."""
    monkeypatch.setattr(fused, "FUSE_MIN_OUTPUTS", 1 << 19)
    weight = torch.randn(128, 32)
    with torch.no_grad():
        assert not can_fuse(torch.randn(2, 16, 32), weight)
        assert not can_fuse(torch.randn(0, 32), weight)
        assert can_fuse(torch.randn(4, 1024, 32), weight)  # 4096 rows x 128 = 2^19
        ffn = FeedForward(32, 128).eval()
        x = torch.randn(2, 16, 32)
        with torch.profiler.profile() as prof:
            small = ffn(x)
    kernels = {event.name for event in prof.events()}
    assert "mkldnn::_linear_pointwise" not in kernels and "aten::addmm" in kernels
    expected = ffn.fc2.weight.double() @ torch.nn.functional.gelu(
        ffn.fc1.weight.double() @ x.double().unsqueeze(-1) + ffn.fc1.bias.double()[:, None]
    )
    expected = expected.squeeze(-1) + ffn.fc2.bias.double()
    torch.testing.assert_close(small.double(), expected, rtol=1e-5, atol=1e-5)
