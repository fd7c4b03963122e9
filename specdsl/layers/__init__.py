"""Torch modules of every layer, by documented class name (imports torch).

Built from the layer families' ``modules`` files, so each class is declared once.
"""

from __future__ import annotations

from importlib import import_module

from specdsl.library import FAMILIES

__all__: list[str] = []

for _family in FAMILIES:
    _module = import_module(f"specdsl.library.{_family}.modules")
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
