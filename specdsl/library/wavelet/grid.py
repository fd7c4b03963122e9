"""One stage of the 2-D mixer: its ops, the subband of every coefficient, its approximation.

A stage is either the block layout of :func:`.ops2d.pyramid`, coefficients
``(rows_H, S, blocks_W S C)``, or the compact layout of :func:`.ops2d.compact`,
``(B, filled_H, filled_W, C)`` (``subband`` mixing of grids where
:func:`.plan.compact_grid` holds). Subband ``0`` is ``cA_L``, then ``(cH, cV, cD)`` from
the coarsest level to the finest; ``3 L + 1`` marks pairs of 1-D outputs that are no
subband of the mixer (including the approximation a non-last stage hands on), a zero
weight.
"""

from __future__ import annotations

import torch
from torch import Tensor

from specdsl.library.fourier.spectral import cached

from .chain import approximation_length
from .ops import BlockOp, linear
from .ops2d import compact, pyramid
from .plan import AxisPlan, outputs

_KINDS = {("hi", "lo"): 0, ("lo", "hi"): 1, ("hi", "hi"): 2}


def pair_subbands(stage_levels: int, first: int, levels: int, last: bool) -> list[list[int]]:
    """``(S, S)``: the subband of each pair (H slot, W slot) of a stage's 1-D pyramid
    outputs; the stage covers the global levels ``first + 1 .. first + stage_levels``."""
    per_slot = [o for o in outputs(stage_levels, True) for _ in range(1 << (stage_levels - o[0]))]
    none = 3 * levels + 1
    table = []
    for level_h, kind_h in per_slot:  # a constant table
        row = []
        for level_w, kind_w in per_slot:
            band, level = none, first + level_h
            if level_h == level_w and (kind_h, kind_w) in _KINDS:
                band = 1 + 3 * (levels - level) + _KINDS[(kind_h, kind_w)]
            elif last and level_h == level_w == stage_levels and kind_h == kind_w == "lo":
                band = 0
            row.append(band)
        table.append(row)
    return table


class GridStage:
    """The ops, subband table and approximation of one stage of an ``H x W`` grid."""

    def __init__(self, plan_h: AxisPlan, plan_w: AxisPlan, packed: bool, like: Tensor):
        self.plan_h, self.plan_w, self.packed = plan_h, plan_w, packed
        ops = compact(plan_h, plan_w, like) if packed else pyramid(plan_h, plan_w, like)
        self.forward: BlockOp = ops[0]
        self.inverse: BlockOp = ops[1]
        self.heads = (approximation_length(plan_h), approximation_length(plan_w))
        if packed:  # where slot 0 (the approximation) sits among the filled slots
            self.rows = [
                torch.tensor([i for i, k in enumerate(p.filled()) if k % p.slots == 0])
                .to(like.device)
                .view(shape)
                for p, shape in ((plan_h, (-1, 1)), (plan_w, (1, -1)))
            ]

    def table(self, first: int, levels: int, last: bool) -> Tensor:
        """The subband of every coefficient position (on the CPU): ``(S, S)``, or (packed)
        ``(filled_H, filled_W)``."""
        table = torch.tensor(pair_subbands(self.plan_h.levels, first, levels, last))
        if not self.packed:
            return table
        slots = [[k % p.slots for k in p.filled()] for p in (self.plan_h, self.plan_w)]
        return table[slots[0]][:, slots[1]]

    def _approximation(self, coefficients: Tensor, batch: int) -> Tensor:
        if self.packed:
            raise TypeError("packed coefficients have no approximation view")
        ph, pw = self.plan_h, self.plan_w
        grid = coefficients[: batch * ph.blocks].view(
            batch, ph.blocks, ph.slots, pw.blocks, pw.slots, -1
        )
        return grid[:, : self.heads[0], 0, : self.heads[1], 0]

    def take(self, coefficients: Tensor, batch: int) -> Tensor:
        """The approximation this stage hands on, ``(B, m_H, m_W, C)``."""
        if self.packed:
            return coefficients[:, self.rows[0], self.rows[1]]
        return self._approximation(coefficients, batch)

    def give(self, coefficients: Tensor, approximation: Tensor) -> None:
        """Add the next stage's reconstruction into the approximation slots, in place."""
        if self.packed:
            coefficients[:, self.rows[0], self.rows[1]] += approximation
        else:
            self._approximation(coefficients, approximation.shape[0]).add_(approximation)

    def analyse(self, image: Tensor) -> Tensor:
        """The stage's coefficients of ``image`` ``(B, H, W, C)``."""
        return linear(image, self.forward)

    def synthesise(self, coefficients: Tensor) -> Tensor:
        """The stage's ``(B, H, W, C)`` reconstruction of ``coefficients``."""
        return linear(coefficients, self.inverse)


@cached
def grid_stage(
    plan_h: AxisPlan, plan_w: AxisPlan, packed: bool, dtype: torch.dtype, device: torch.device
) -> GridStage:
    """The cached :class:`GridStage` of two plans (``packed``: the compact layout)."""
    return GridStage(plan_h, plan_w, packed, torch.empty(0, dtype=dtype, device=device))


@cached
def stage_table(
    stage: GridStage, first: int, levels: int, last: bool, device: torch.device
) -> Tensor:
    """:meth:`GridStage.table` on ``device`` (cached)."""
    return stage.table(first, levels, last).to(device)


__all__ = ["GridStage", "grid_stage", "pair_subbands", "stage_table"]
