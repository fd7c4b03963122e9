"""The separable 2-D pyramid: the 1-D block ops of :mod:`.ops` along W, then along H.

The 2-D DWT with symmetric extension is separable level by level (filtering along one
axis commutes with extending along the other), so every subband is the product of two
1-D pyramid outputs (``lo_j`` / ``hi_j`` of :func:`.plan.outputs`): ``cA_L = lo_L x lo_L``,
``cH_j = hi_j (H) x lo_j (W)``, ``cV_j = lo_j x hi_j``, ``cD_j = hi_j x hi_j``. The
analysis keeps every pair of 1-D outputs; the mixing weights of the pairs that are no
subband are zero, so the separable synthesis reads only real subbands.

Layouts: images ``(B, H, W, C)`` -> coefficients ``(rows_H, slots_H, blocks_W slots_W C)``
with ``rows_H = B blocks_H + window_H - 1`` (see :mod:`.ops`). Small and moderate grids
(:func:`.plan.compact_grid`) skip the block layout: :func:`compact` keeps only the slots
that hold coefficients, ``(B, filled_H, filled_W, C)``, from one dense matrix per axis
(at ``16 x 16``, db4, 2 levels: ``40 x 40`` coefficients per channel instead of
``54 x 54`` slots).
"""

from __future__ import annotations

import torch
from torch import Tensor

from specdsl.transforms._common import cached_constant

from .banks import dense_analysis_matrix, dense_synthesis_matrix
from .ops import Analysis, BlockOp, Synthesis, analysis, synthesis
from .plan import AxisPlan


class Analysis2D(BlockOp):
    """``(B, H, W, C)`` -> ``(rows_H, slots_H, blocks_W slots_W C)``."""

    def __init__(self, along_h: Analysis, along_w: Analysis) -> None:
        self.along_h, self.along_w = along_h, along_w

    def _width(self, channels: int) -> int:
        plan = self.along_w.plan
        return plan.blocks * plan.slots * channels

    def apply(self, x: Tensor) -> Tensor:
        batch, height, width, channels = x.shape
        rows = self.along_w.apply(x.reshape(batch * height, width, channels))
        count = batch * height * self.along_w.plan.blocks
        return self.along_h.apply(rows[:count].view(batch, height, self._width(channels)))

    def adjoint(self, grad: Tensor, shape: torch.Size) -> Tensor:
        batch, height, width, channels = shape
        rows = self.along_h.adjoint(grad, torch.Size((batch, height, self._width(channels))))
        plan = self.along_w.plan
        rows = rows.reshape(batch * height * plan.blocks, plan.slots, channels)
        out = self.along_w.adjoint(rows, torch.Size((batch * height, width, channels)))
        return out.reshape(shape)


class Synthesis2D(BlockOp):
    """``(rows_H, slots_H, blocks_W slots_W C)`` -> the first ``H x W`` samples,
    ``(B, H, W, C)``."""

    def __init__(self, along_h: Synthesis, along_w: Synthesis) -> None:
        self.along_h, self.along_w = along_h, along_w

    def apply(self, x: Tensor) -> Tensor:
        rows = self.along_h.apply(x)  # (B, H, blocks_W slots_W C)
        batch, height = rows.shape[:2]
        plan = self.along_w.plan
        channels = x.shape[-1] // (plan.blocks * plan.slots)
        count = batch * height * plan.blocks
        buffer = x.new_empty(plan.rows(batch * height), plan.slots, channels)
        buffer[count:].zero_()
        buffer[:count].view(rows.shape).copy_(rows)
        out = self.along_w.apply(buffer)  # (B H, W, C)
        return out.reshape(batch, height, *out.shape[1:])

    def adjoint(self, grad: Tensor, shape: torch.Size) -> Tensor:
        batch, height, width, channels = grad.shape
        plan = self.along_w.plan
        rows_shape = torch.Size((plan.rows(batch * height), plan.slots, channels))
        rows = self.along_w.adjoint(grad.reshape(batch * height, width, channels), rows_shape)
        count = batch * height * plan.blocks
        return self.along_h.adjoint(rows[:count].view(batch, height, -1), shape)


class Separable(BlockOp):
    """``(B, H, W, C)`` -> ``(B, rows(along_h), rows(along_w), C)``: one dense matrix along
    W, then one along H (its adjoint is the transposed pair)."""

    def __init__(self, along_h: Tensor, along_w: Tensor) -> None:
        self.along_h, self.along_w = along_h, along_w

    def apply(self, x: Tensor) -> Tensor:
        batch, height, width, channels = x.shape
        rows = torch.matmul(self.along_w, x.reshape(batch * height, width, channels))
        out = torch.matmul(self.along_h, rows.view(batch, height, -1))
        return out.view(batch, out.shape[1], -1, channels)

    def adjoint(self, grad: Tensor, shape: torch.Size) -> Tensor:
        return Separable(self.along_h.T, self.along_w.T).apply(grad)


def _filled_matrices(
    plan: AxisPlan, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, Tensor]:
    """The dense analysis rows and synthesis columns of the filled slots of ``plan``."""
    filled = list(plan.filled())
    forward = dense_analysis_matrix(plan)[filled]
    inverse = dense_synthesis_matrix(plan, plan.length)[:, filled]
    return (
        torch.tensor(forward, dtype=dtype, device=device),
        torch.tensor(inverse, dtype=dtype, device=device),
    )


@cached_constant
def _compact(
    plan_h: AxisPlan, plan_w: AxisPlan, dtype: torch.dtype, device: torch.device
) -> tuple[Separable, Separable]:
    forward_h, inverse_h = _filled_matrices(plan_h, dtype, device)
    forward_w, inverse_w = _filled_matrices(plan_w, dtype, device)
    return Separable(forward_h, forward_w), Separable(inverse_h, inverse_w)


def compact(plan_h: AxisPlan, plan_w: AxisPlan, like: Tensor) -> tuple[Separable, Separable]:
    """A grid as four dense products on the filled slots only (:meth:`.plan.AxisPlan.filled`):
    the analysis and synthesis :class:`Separable` ops."""
    return _compact(plan_h, plan_w, like.dtype, like.device)


@cached_constant
def _pair(
    plan_h: AxisPlan,
    plan_w: AxisPlan,
    size: tuple[int, int],
    dtype: torch.dtype,
    device: torch.device,
) -> tuple[Analysis2D, Synthesis2D]:
    like = torch.empty(0, dtype=dtype, device=device)
    height, width = size
    return (
        Analysis2D(analysis(plan_h, 0, like), analysis(plan_w, 0, like)),
        Synthesis2D(synthesis(plan_h, height, like), synthesis(plan_w, width, like)),
    )


def pyramid(plan_h: AxisPlan, plan_w: AxisPlan, like: Tensor) -> tuple[Analysis2D, Synthesis2D]:
    """The cached 2-D analysis and synthesis ops of an ``H x W`` grid (the plans' lengths)."""
    size = (plan_h.length, plan_w.length)
    return _pair(plan_h, plan_w, size, like.dtype, like.device)


__all__ = ["Analysis2D", "Separable", "Synthesis2D", "compact", "pyramid"]
