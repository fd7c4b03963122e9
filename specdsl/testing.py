"""Checks shared by the test suite and by anyone adding a layer (imports torch).

Each function raises ``AssertionError`` with a message that says what differs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from specdsl.library import Dims, LayerConfig


def count_matmul_flops(fn: Callable[[], object]) -> int:
    """Total FLOPs ``FlopCounterMode`` measures while ``fn()`` runs."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def build(config: LayerConfig) -> nn.Module:
    """The torch module of a layer config, via its registry entry."""
    return type(config).entry.load_module().from_config(config)


def assert_cost_matches(config: LayerConfig, batch: int = 2, seq_len: int = 12) -> None:
    """The config's cost formula equals the module: parameters and matmul FLOPs, exactly."""
    module = build(config)
    dims = Dims(batch=batch, seq_len=seq_len, hidden_dim=config.hidden_dim)  # type: ignore[attr-defined]
    cost = config.cost(dims)
    params = sum(p.numel() for p in module.parameters())
    assert cost.params == params, (
        f"{type(config).__name__}: formula {cost.params} params, module {params}"
    )
    x = torch.randn(batch, seq_len, dims.hidden_dim)
    with torch.no_grad():
        measured = count_matmul_flops(lambda: module(x))
    assert cost.matmul_flops == measured, (
        f"{type(config).__name__}: formula {cost.matmul_flops} matmul FLOPs,"
        f" FlopCounterMode {measured}"
    )


def assert_gradients_flow(module: nn.Module, loss: Tensor) -> None:
    """Every parameter of ``module`` gets a finite, non-zero gradient from ``loss``."""
    module.zero_grad()
    loss.backward()
    for name, parameter in module.named_parameters():
        grad = parameter.grad
        assert grad is not None, f"no gradient reaches {name}"
        assert torch.isfinite(grad).all(), f"non-finite gradient in {name}"
        assert grad.abs().sum() > 0, f"zero gradient in {name}"


def assert_causal(
    fn: Callable[[Tensor], Tensor], x: Tensor, positions: list[int] | None = None
) -> None:
    """``d fn(x)[:, t] / d x[:, s] == 0.0`` exactly for every ``s > t``.

    ``x`` is ``(B, N, D)``; ``positions`` are the ``t`` to check (default: a spread).
    """
    n = x.shape[1]
    positions = positions if positions is not None else sorted({0, 1, n // 3, n // 2, n - 2, n - 1})
    x = x.detach().clone().requires_grad_(True)
    out = fn(x)
    for t in positions:
        if not 0 <= t < n:
            continue
        (grad,) = torch.autograd.grad(out[:, t].sum(), x, retain_graph=True)
        future = grad[:, t + 1 :]
        assert torch.count_nonzero(future) == 0, (
            f"output position {t} depends on future positions"
            f" (max |grad| {future.abs().max().item():.3g})"
        )


def held_for_backward(module: nn.Module, *args: object, **kwargs: object) -> int:
    """Bytes one training-mode forward of ``module`` leaves allocated for its backward.

    Measured by ``torch.profiler`` (``profile_memory=True``): the net of every allocation
    and free during the forward. Floating-point tensor arguments enter as copies made
    inside the measurement from leaves that require a gradient (a non-leaf, as a block's
    norm output is), so an input counts exactly when autograd keeps it; the output is
    dropped inside the measurement, so it counts only when the graph keeps it. A first,
    discarded forward builds the per-length constants that layers cache (not activations).
    Compare with ``config.cost(dims).activation_bytes``.
    """
    from torch.profiler import ProfilerActivity, profile

    def leaf(value: object) -> object:
        if isinstance(value, Tensor) and value.is_floating_point():
            return value.detach().requires_grad_()
        return value

    def copy(value: object) -> object:
        return value.clone() if isinstance(value, Tensor) else value

    leaves = [leaf(value) for value in args]
    named = {key: leaf(value) for key, value in kwargs.items()}

    def call() -> Tensor:
        return module(*map(copy, leaves), **{key: copy(value) for key, value in named.items()})

    module.train()
    call()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = call()
        graph = out.grad_fn
        del out
    assert graph is not None, "the output does not depend on anything that needs a gradient"
    return sum(event.self_cpu_memory_usage for event in prof.events())
