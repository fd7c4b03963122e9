"""specdsl: a declarative architecture compiler for spectral transformers.

>>> import specdsl
>>> model = specdsl.load("layers: repeat 2 [fourier]\\nhidden_dim: 32")  # doctest: +SKIP

Importing specdsl does not import torch; compiling does.
"""

from __future__ import annotations

from typing import Any

from specdsl.api import compile, load, parse, to_graph
from specdsl.errors import Problem, SpecError
from specdsl.language.dump import dump
from specdsl.schema.spec import HeadSpec, LayerSpec, RepeatSpec, Spec

__version__ = "0.1.0"

__all__ = [
    "HeadSpec",
    "LayerSpec",
    "Problem",
    "RepeatSpec",
    "Spec",
    "SpecError",
    "__version__",
    "compile",
    "diagram",
    "dump",
    "estimate",
    "load",
    "parse",
    "to_graph",
]


def __getattr__(name: str) -> Any:
    # estimate and diagram live in optional-weight modules, loaded on first use.
    if name == "estimate":
        from specdsl.estimate import estimate

        return estimate
    if name == "diagram":
        from specdsl.diagram import diagram

        return diagram
    raise AttributeError(f"module 'specdsl' has no attribute {name!r}")
