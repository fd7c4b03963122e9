"""Estimates from the spec alone: parameters, FLOPs, activation memory, complexity.

Pure arithmetic on the validated spec: nothing here imports torch or allocates a weight.
See docs/estimates.md for the formulas and conventions.

``specdsl.estimate`` names both this package and the function :func:`estimate`: once the
package is imported, Python binds the package to the ``specdsl.estimate`` attribute, so
the package itself is callable and calls :func:`estimate`.
"""

import sys
from types import ModuleType
from typing import Any

from specdsl.estimate.engine import DTYPE_BYTES, Plan, estimate, plan
from specdsl.estimate.model import BlockEstimate, Estimate, PartEstimate, TrainingMemory
from specdsl.estimate.training import parse_bytes, training_memory

__all__ = [
    "DTYPE_BYTES",
    "BlockEstimate",
    "Estimate",
    "PartEstimate",
    "Plan",
    "TrainingMemory",
    "estimate",
    "parse_bytes",
    "plan",
    "training_memory",
]


class _CallablePackage(ModuleType):
    """``specdsl.estimate(spec, ...)`` works whether it resolves to the function or here."""

    def __call__(self, *args: Any, **kwargs: Any) -> Estimate:
        return estimate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
