"""Argument checks for direct Python construction of the Fourier-type modules (torch-free).

Specs are validated by the pydantic configs; these give the same ranges as a
``ValueError`` naming the argument when a module is built by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` if it is an integer ``>= minimum``, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_float(name: str, value: Any, low: float = 0.0, high: float | None = None) -> float:
    """``value`` if ``low <= value`` (and ``< high`` when given), else ``ValueError``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value >= high):
        span = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a number in {span}, got {value!r}")
    return float(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` if it is a number ``> 0``, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``, else ``ValueError`` listing them."""
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_dropout(value: Any) -> float:
    """A dropout probability in ``[0, 1)``."""
    return check_float("dropout", value, 0.0, 1.0)


__all__ = ["check_choice", "check_dropout", "check_float", "check_int", "check_positive"]
