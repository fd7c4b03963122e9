"""Shared helpers: argument validation, constant caching and dimension handling."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import torch

T = TypeVar("T")

_CACHE_SIZE = 256


def cached_constant(fn: Callable[..., T]) -> Callable[..., T]:
    """Memoise a constant-building function keyed on its (hashable) arguments.

    The wrapped function typically builds twiddle factors or index tensors for a
    given ``(n, dtype, device)``. Constants are built outside inference mode so
    that they can later be saved for backward, and the cache is bypassed while
    ``torch.compile`` traces (the constants are then built inside the graph).
    """
    cache: OrderedDict[tuple[Any, ...], T] = OrderedDict()

    @functools.wraps(fn)
    def wrapper(*key: Any) -> T:
        if torch.compiler.is_compiling():
            return fn(*key)
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
        with torch.inference_mode(False), torch.no_grad():
            value = fn(*key)
        cache[key] = value
        if len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
        return value

    wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
    return wrapper


def check_real_float(x: torch.Tensor, name: str = "x") -> None:
    """Raise ``TypeError`` unless ``x`` is a real floating-point tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_complex() or not x.is_floating_point():
        raise TypeError(f"{name} must be a real floating-point tensor, got dtype {x.dtype}")


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an ``int >= minimum``; raise ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``; raise ``ValueError`` otherwise."""
    choices = tuple(choices)
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_norm(norm: str | None) -> bool:
    """Validate a scipy-style ``norm`` argument; return ``True`` for ``"ortho"``."""
    return check_choice(norm, "norm", ("ortho", None)) == "ortho"


def next_pow2(n: int) -> int:
    """Smallest power of two ``>= n`` (``n >= 1``)."""
    return 1 << (n - 1).bit_length()


def is_pow2(n: int) -> bool:
    """Whether ``n`` is a positive power of two."""
    return n >= 1 and n & (n - 1) == 0


def normalize_dim(x: torch.Tensor, dim: int) -> int:
    """Validate ``dim`` for ``x`` and return it as a non-negative int."""
    if x.dim() == 0:
        raise ValueError("expected a tensor with at least one dimension, got a 0-d tensor")
    if not -x.dim() <= dim < x.dim():
        raise IndexError(
            f"dim must be in [{-x.dim()}, {x.dim() - 1}] for a {x.dim()}-d tensor, got {dim}"
        )
    return dim % x.dim()


def along_dim(
    fn: Callable[..., torch.Tensor], x: torch.Tensor, dim: int, *args: Any
) -> torch.Tensor:
    """Apply ``fn`` (which acts on the last dimension) along ``dim`` of ``x``."""
    dim = normalize_dim(x, dim)
    if dim == x.dim() - 1:
        return fn(x, *args)
    return fn(x.movedim(dim, -1), *args).movedim(-1, dim)


def normalize_dims(x: torch.Tensor, dims: tuple[int, int]) -> tuple[int, int]:
    """Validate two distinct dimensions of ``x`` and return them as non-negative ints."""
    if len(dims) != 2:
        raise ValueError(f"dim must be a pair of dimensions, got {dims!r}")
    first, second = (normalize_dim(x, d) for d in dims)
    if first == second:
        raise ValueError(f"dim must name two different dimensions, got {dims!r}")
    return first, second


def on_rows(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Run a last-dimension kernel on a 2D ``(rows, n)`` view of its first argument.

    Several CPU kernels (notably ``index_select`` along the last dim) are an order
    of magnitude slower on tensors with more than two dimensions.
    """

    @functools.wraps(fn)
    def wrapper(x: torch.Tensor, *args: Any) -> torch.Tensor:
        if x.dim() == 2:
            return fn(x, *args)
        y = fn(x.reshape(-1, x.shape[-1]), *args)
        return y.reshape(*x.shape[:-1], y.shape[-1])

    return wrapper


def gather_last(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x.index_select(-1, index)`` computed on a 2D view (see :func:`on_rows`)."""
    return on_rows(torch.Tensor.index_select)(x, -1, index)
