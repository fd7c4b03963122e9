"""Measuring compiled models, to hold the estimate to: parameters, matmul FLOPs, memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

import specdsl
from specdsl import testing
from specdsl.testing import count_matmul_flops


@dataclass(frozen=True)
class Measured:
    """What a compiled model really has and does at one batch size and length."""

    batch: int
    seq_len: int
    params: int
    matmul_flops: int
    model: torch.nn.Module
    inputs: dict[str, torch.Tensor]


def model_inputs(spec: specdsl.Spec, batch: int, n: int) -> dict[str, torch.Tensor]:
    """Token ids when the spec has a vocabulary, else embeddings."""
    if spec.vocab_size is not None:
        return {"input_ids": torch.randint(0, spec.vocab_size, (batch, n))}
    return {"inputs_embeds": torch.randn(batch, n, spec.hidden_dim)}


def measure(spec: specdsl.Spec, batch: int = 2, n: int = 37, device: str = "cpu") -> Measured:
    """Compile ``spec``; count its parameters and one no-grad forward's matmul FLOPs.

    ``device="meta"`` builds and runs the model on shapes alone (no memory, no arithmetic):
    parameter counts and FlopCounterMode's totals depend on shapes only, so documented
    models are checked at full size in a fraction of a second.
    """
    with torch.device(device):
        model = specdsl.compile(spec)
        inputs = model_inputs(spec, batch, n)
        model.eval()
        with torch.no_grad():
            flops = count_matmul_flops(lambda: model(**inputs))
    params = sum(p.numel() for p in model.parameters())
    return Measured(batch, n, params, flops, model, inputs)


def held_for_backward(model: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> int:
    """Bytes a training-mode forward of the model keeps for backward (see specdsl.testing)."""
    return testing.held_for_backward(model, **inputs)


@pytest.fixture(scope="session")
def measure_model() -> Callable[..., Measured]:
    return measure


@pytest.fixture(scope="session")
def measure_held() -> Callable[[torch.nn.Module, dict[str, torch.Tensor]], int]:
    return held_for_backward


@pytest.fixture(scope="session")
def inputs_for() -> Callable[[specdsl.Spec, int, int], dict[str, torch.Tensor]]:
    return model_inputs
