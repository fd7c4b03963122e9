"""The compiler: a validated spec's graph -> a plain ``torch.nn.Module``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from specdsl.compiler.model import CompiledModel
from specdsl.schema.spec import Spec


@contextmanager
def seeded(spec: Spec, seed: int | None = None) -> Iterator[None]:
    """Seed weight initialisation for ``spec`` without touching the caller's RNG.

    The seed is ``seed``, else ``spec.seed``, else 0.
    """
    chosen = seed if seed is not None else (spec.seed if spec.seed is not None else 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(chosen)
        yield


def compile_spec(spec: Spec, seed: int | None = None) -> CompiledModel:
    """Build the model of ``spec``; weights depend only on the spec and the seed."""
    with seeded(spec, seed):
        return CompiledModel(spec)


__all__ = ["CompiledModel", "compile_spec", "seeded"]
