"""The documented model classes, each compiled from the spec it builds.

``FNet(...)``, ``LSTDecoder(...)`` and the rest take the documented constructor
arguments, build a :class:`~specdsl.schema.spec.Spec` (``model.spec``) and compile it,
the same path as ``specdsl build``; ``architectures/`` holds each one as a spec file
(see :mod:`specdsl.models.catalog`). Importing this package does not import torch;
using a class does.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from specdsl.models.catalog import MODULES

#: The documented model classes (``SpecModel``, their base, is importable too).
__all__ = sorted(MODULES)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    module = "base" if name == "SpecModel" else MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'specdsl.models' has no attribute {name!r}")
    return getattr(import_module(f"specdsl.models.{module}"), name)
