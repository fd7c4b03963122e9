"""Torch helpers shared by every attention-type mixer (softmax, linear, LST).

:class:`MultiHeadMixer` owns the fused QKV projection, the head split/merge and the
output projection; subclasses implement only the mixing over the sequence.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.library.fused import fused_linear

_F = TypeVar("_F", bound=Callable[..., Any])


def cached_tensors(maxsize: int = 128) -> Callable[[_F], _F]:
    """Decorator memoising a builder of constant tensors keyed on its hashable arguments.

    Constants are built outside inference mode and without grad, so they can be saved
    for backward later; ``(length, dtype, device)`` belong in the key. At most
    ``maxsize`` results are kept (least recently used dropped first).
    """

    def decorate(fn: _F) -> _F:
        @functools.lru_cache(maxsize=maxsize)
        def build(*key: Any) -> Any:
            with torch.inference_mode(False), torch.no_grad():
                return fn(*key)

        @functools.wraps(fn)
        def wrapper(*key: Any) -> Any:
            if torch.compiler.is_compiling():
                return fn(*key)
            return build(*key)

        return wrapper  # type: ignore[return-value]

    return decorate


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` unless it is an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_probability(name: str, value: object) -> float:
    """``value`` as a float in ``[0, 1)``, or ``ValueError`` naming ``name``."""
    # ``not value < 0`` is ``0 <= value`` with the ``<`` that ``numbers.Real`` declares (a NaN
    # fails ``value < 1``); comparing before ``float()`` keeps a huge int a ValueError.
    if (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and value < 1.0
        and not value < 0.0
    ):
        return float(value)
    raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")


def check_choice(name: str, value: object, choices: tuple[Any, ...]) -> Any:
    """``value`` if it is one of ``choices``, else ``ValueError`` listing them."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def resolve_head_dim(hidden_dim: int, num_heads: int, head_dim: int | None = None) -> int:
    """Validate the head layout and return the width of one head.

    Without ``head_dim`` it is ``hidden_dim // num_heads``, which must divide exactly.
    """
    hidden_dim = check_int("hidden_dim", hidden_dim)
    num_heads = check_int("num_heads", num_heads)
    if head_dim is not None:
        return check_int("head_dim", head_dim)
    if hidden_dim % num_heads:
        raise ValueError(f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads})")
    return hidden_dim // num_heads


def linear(layer: nn.Linear, x: Tensor) -> Tensor:
    """``layer(x)`` computed in the dtype of ``x`` (a float64 input is never downcast), the
    bias fused into the product in CPU inference (:func:`specdsl.library.fused.fused_linear`)."""
    return fused_linear(x, layer)


class MultiHeadMixer(nn.Module):
    """Base of the attention-type mixers: fused QKV projection, heads, output projection.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``; inputs are ``(B, N, D)``.
    num_heads : int
        Number of heads ``H``.
    dropout : float
        Dropout probability in ``[0, 1)`` (where a subclass applies it is documented there).
    head_dim : int, optional
        Width of one head; default ``hidden_dim // num_heads`` (which must then divide).
    use_bias : bool
        Bias in the projections.
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int,
        dropout: float,
        head_dim: int | None = None,
        use_bias: bool = True,
    ) -> None:
        super().__init__()
        self.head_dim = resolve_head_dim(hidden_dim, num_heads, head_dim)
        self.hidden_dim, self.num_heads = hidden_dim, num_heads
        self.inner_dim = self.num_heads * self.head_dim
        self.dropout = check_probability("dropout", dropout)
        self.use_bias = bool(use_bias)
        self.qkv = nn.Linear(self.hidden_dim, 3 * self.inner_dim, bias=self.use_bias)
        self.out_proj = nn.Linear(self.inner_dim, self.hidden_dim, bias=self.use_bias)

    @classmethod
    def from_config(cls, config: Any) -> MultiHeadMixer:
        """Build from the layer's pydantic config (its fields are the constructor's)."""
        return cls(**config.model_dump())

    def check_input(self, x: Tensor, mask: Tensor | None) -> Tensor | None:
        """Validate ``x`` ``(B, N, D)`` and the key mask; return the mask as bool or None."""
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != self.hidden_dim:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must be a (batch, seq_len, {self.hidden_dim}) tensor, got {shape}")
        if not x.is_floating_point():
            raise ValueError(f"x must be a floating-point tensor, got dtype {x.dtype}")
        if mask is None:
            return None
        if mask.shape != x.shape[:2]:
            raise ValueError(
                f"mask must have shape (batch, seq_len) = {tuple(x.shape[:2])}, "
                f"got {tuple(mask.shape)}"
            )
        return mask.to(device=x.device, dtype=torch.bool)

    def heads(self, x: Tensor, seq_last: bool = False) -> Tensor:
        """Queries, keys and values stacked: ``(3, B, H, N, d)``, or ``(3, B, H, d, N)``.

        ``q, k, v = self.heads(x)`` unpacks them (views of one fused projection).
        """
        b, n, _ = x.shape
        qkv = linear(self.qkv, x).view(b, n, 3, self.num_heads, self.head_dim)
        return qkv.permute(2, 0, 3, 4, 1) if seq_last else qkv.permute(2, 0, 3, 1, 4)

    def merge(self, y: Tensor, seq_last: bool = False) -> Tensor:
        """Concatenate heads ``(B, H, N, d)`` (or ``(B, H, d, N)``) and project to ``D``."""
        y = y.permute(0, 3, 1, 2) if seq_last else y.transpose(1, 2)
        return linear(self.out_proj, y.reshape(y.shape[0], y.shape[1], self.inner_dim))

    def output_dropout(self, y: Tensor) -> Tensor:
        """Dropout on the mixed heads (training only)."""
        return F.dropout(y, self.dropout, self.training) if self.dropout else y

    def extra_repr(self) -> str:
        return f"hidden_dim={self.hidden_dim}, num_heads={self.num_heads}, head_dim={self.head_dim}"


def key_padding(mask: Tensor | None, dtype: torch.dtype, seq_last: bool = False) -> Tensor | None:
    """The ``(B, N)`` keep-mask as a ``(B, 1, N, 1)`` (or ``(B, 1, 1, N)``) multiplier."""
    if mask is None:
        return None
    return (mask[:, None, None, :] if seq_last else mask[:, None, :, None]).to(dtype)


def draw_seed() -> int:
    """A seed drawn from the global RNG, so seeded builds give identical random features."""
    return int(torch.randint(0, 2**31 - 1, (1,), device="cpu").item())


__all__ = [
    "MultiHeadMixer",
    "cached_tensors",
    "check_choice",
    "check_int",
    "check_probability",
    "draw_seed",
    "key_padding",
    "linear",
    "resolve_head_dim",
]
