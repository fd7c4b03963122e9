"""The compiler: a validated spec's graph -> a plain ``torch.nn.Module``."""

from __future__ import annotations

import torch

from specdsl.compiler.model import CompiledModel
from specdsl.graph import to_graph
from specdsl.schema.spec import Spec


def compile_spec(spec: Spec, seed: int | None = None) -> CompiledModel:
    """Build the model of ``spec``; weights depend only on the spec and the seed.

    The seed is ``seed``, else ``spec.seed``, else 0; the global RNG is left untouched.
    """
    graph = to_graph(spec)
    chosen = seed if seed is not None else (spec.seed if spec.seed is not None else 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(chosen)
        return CompiledModel(spec, graph)


__all__ = ["CompiledModel", "compile_spec"]
