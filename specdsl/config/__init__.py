"""Config classes: every layer's pydantic schema (and the model configs), by documented name.

Built from the layer families so that a new layer cannot be forgotten here.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from specdsl.library import FAMILIES

__all__: list[str] = []

for _family in FAMILIES:
    _module = import_module(f"specdsl.library.{_family}")
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)

_models: ModuleType | None
try:  # the documented model configs (specdsl.models.configs), torch-free
    _models = import_module("specdsl.models.configs")
except ModuleNotFoundError:  # pragma: no cover - while models are being written
    _models = None
if _models is not None:
    for _name in _models.__all__:
        globals()[_name] = getattr(_models, _name)
        __all__.append(_name)
