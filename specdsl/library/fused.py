"""A linear layer with its bias and activation in one pass, for inference on CPU.

``F.gelu(F.linear(x, W, b))`` on a ``(tokens, F)`` output makes three passes over memory:
the product, the bias (``addmm`` first copies ``b`` into the output, then the GEMM reads
it back) and the activation. At the sizes of a long sequence the output is far larger
than the caches, so the two extra passes cost about a fifth of the product itself. oneDNN
(``torch.ops.mkldnn._linear_pointwise``, the kernel ``torch.compile`` emits for the same
pattern on CPU) applies bias and activation to each output tile while it is still in
cache; its ``binary`` form adds a residual there too (one pass fewer than
``x + linear(h)``). :func:`fused_linear` takes that path when nothing needs a gradient
and falls back to the plain operations everywhere else (training, other devices and
dtypes, tracing by ``torch.compile`` / ``torch.export``, dispatch modes such as
``FlopCounterMode``, builds without oneDNN) and for small products, where setting up the
oneDNN call costs more than the passes it saves (:data:`FUSE_MIN_OUTPUTS`).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils._python_dispatch import _get_current_dispatch_mode

#: ``torch.compiler.is_exporting`` is newer than the oldest torch we support (2.3); before
#: it, ``torch.export`` traces through dynamo, which ``is_compiling`` already reports.
_is_exporting = getattr(torch.compiler, "is_exporting", lambda: False)

#: The fewest output numbers (rows x out_features) for which :func:`fused_linear` calls
#: oneDNN. A oneDNN call costs ~20 us more than ``F.linear`` to set up, whatever its size;
#: what fusion saves is a pass over the output. Measured on a
#: 2-core AVX-512 machine, feed-forward ``D -> 4D -> D`` with residual: at D = 32 the plain
#: path is faster up to ~2k rows (65 against 111 us at 16 rows), oneDNN from 4k rows (0.73
#: against 0.80 ms); at D = 256 they are even from 256 rows, oneDNN 8 % ahead at 16k rows.
FUSE_MIN_OUTPUTS = 1 << 19


@functools.cache
def onednn_linear_available() -> bool:
    """Whether this build runs the oneDNN linear kernel, with and without a fused residual
    (probed once, on a tiny input)."""
    if not torch.backends.mkldnn.is_available():
        return False
    x, w = torch.ones(1, 2), torch.ones(3, 2)
    try:
        kernel = torch.ops.mkldnn._linear_pointwise  # AttributeError where the op is missing
        out = kernel(x, w, None, "none", [], "")
        summed = kernel.binary(x, torch.ones(1, 3), w, None, "add")
    except (RuntimeError, AttributeError, TypeError):
        return False
    return bool(torch.equal(out, torch.full((1, 3), 2.0)) and torch.equal(summed, out + 1))


def needs_grad(*tensors: Tensor | None) -> bool:
    """Whether autograd records an operation on ``tensors`` (grad mode on and one of them,
    ``None`` skipped, requires grad): where it does not, a layer may overwrite its
    temporaries in place or take an inference-only path."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def scale_temporary(values: Tensor, factor: Tensor) -> Tensor:
    """``values * factor``, written over ``values`` (a temporary of the caller) when autograd
    records neither: inference then allocates and writes no second tensor."""
    if needs_grad(values, factor):
        return values * factor
    return values.mul_(factor)


def can_fuse(x: Tensor, weight: Tensor) -> bool:
    """Whether :func:`fused_linear` may take the oneDNN path for ``x @ weight.T``."""
    rows = x.numel() // x.shape[-1] if x.shape[-1] else 0
    return (
        rows * weight.shape[0] >= FUSE_MIN_OUTPUTS
        and not torch.is_grad_enabled()
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and not torch.compiler.is_compiling()
        and not _is_exporting()
        and not torch.jit.is_tracing()  # a traced graph (ONNX) must hold portable ops
        and _get_current_dispatch_mode() is None  # FlopCounterMode, fake tensors: plain ops
        and onednn_linear_available()
    )


def _kernel_attributes(activation: nn.Module | None) -> tuple[str, str] | None:
    """The fused kernel's ``(attr, algorithm)`` for ``activation``, or None if it has none."""
    if activation is None:
        return "none", ""
    if type(activation) is nn.GELU:
        return "gelu", activation.approximate  # "none" (exact, erf) or "tanh"
    if type(activation) is nn.ReLU:
        return "relu", ""
    return None


def parameters_in(linear: nn.Linear, dtype: torch.dtype) -> tuple[Tensor, Tensor | None]:
    """``linear``'s weight and bias in ``dtype`` (converted only when they differ), so that
    a float64 input is never downcast."""
    weight: Tensor = linear.weight
    bias: Tensor | None = linear.bias
    if weight.dtype != dtype:
        weight = weight.to(dtype)
        bias = None if bias is None else bias.to(dtype)
    return weight, bias


def fused_linear(
    x: Tensor,
    linear: nn.Linear,
    activation: nn.Module | None = None,
    residual: Tensor | None = None,
) -> Tensor:
    """``activation(linear(x)) + residual``, fused into the product where possible.

    The product runs in the dtype of ``x`` (a float64 input is never downcast).

    Parameters
    ----------
    x : Tensor
        Input ``(..., in_features)``.
    linear : nn.Linear
        The product and bias.
    activation : nn.Module, optional
        ``nn.GELU`` (exact or tanh) and ``nn.ReLU`` are fused; anything else runs after the
        product as usual.
    residual : Tensor, optional
        Added to the output (same shape). Fused with no activation; otherwise a plain add.

    Returns
    -------
    Tensor
        ``(..., out_features)``, equal to the unfused result up to float rounding.
    """
    weight, bias = parameters_in(linear, x.dtype)
    if residual is not None:
        fits = residual.shape == (*x.shape[:-1], weight.shape[0]) and residual.dtype == x.dtype
        if activation is None and fits and can_fuse(x, weight):
            return torch.ops.mkldnn._linear_pointwise.binary(x, residual, weight, bias, "add")
        out = F.linear(x, weight, bias)
        # A bare product's output is not kept by autograd: the sum may overwrite it.
        return out.add_(residual) if activation is None else activation(out) + residual
    attributes = _kernel_attributes(activation)
    if attributes is not None and can_fuse(x, weight):
        attr, algorithm = attributes
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, attr, [], algorithm)
    out = F.linear(x, weight, bias)
    return out if activation is None else activation(out)


__all__ = [
    "FUSE_MIN_OUTPUTS",
    "can_fuse",
    "fused_linear",
    "needs_grad",
    "onednn_linear_available",
    "parameters_in",
    "scale_temporary",
]
