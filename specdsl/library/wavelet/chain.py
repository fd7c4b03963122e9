"""Stages of a deep decomposition (:func:`.plan.stages`): where each pywt band lives.

A stage's coefficient buffer ``(G blocks + window - 1, slots, d)`` holds its details and,
in slot 0, its approximation; every stage but the last hands that approximation on to the
next stage and gets it back, reconstructed, before its own synthesis. These tables map
the slots of every stage to the mixer's pywt bands ``[cA_L, cD_L, ..., cD_1]``; the
approximation slot of a non-last stage maps to ``L + 1``, a zero weight.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from specdsl.library.fourier.spectral import cached

from .plan import AxisPlan, band_lengths


def first_levels(plans: tuple[AxisPlan, ...]) -> list[int]:
    """Global level below each stage's first (0 for the finest stage)."""
    return [sum(plan.levels for plan in plans[:i]) for i in range(len(plans))]


def approximation_length(plan: AxisPlan) -> int:
    """Coefficients of the approximation a stage hands on (``m`` of its last level)."""
    return band_lengths(plan.length, plan.taps, plan.levels)[-1]


def approximation(buffer: Tensor, plan: AxisPlan, groups: int) -> Tensor:
    """The approximation ``(G, m, d)`` of a 1-D stage (a view of slot 0)."""
    blocks = buffer[: groups * plan.blocks].view(groups, plan.blocks, plan.slots, -1)
    return blocks[:, : approximation_length(plan), 0]


def slot_bands(plan: AxisPlan, first: int, levels: int, last: bool) -> list[int]:
    """pywt band of each slot of a 1-D stage (``levels + 1`` for a handed-on approximation).

    Slot ``s >= 1`` is the detail of local level ``plan.levels - s.bit_length() + 1``.
    """
    top = first + plan.levels
    out = [0 if last else levels + 1]
    for slot in range(1, plan.slots):
        level = top - slot.bit_length() + 1
        out.append(levels - level + 1)
    return out


@cached
def stage_bands(plans: tuple[AxisPlan, ...], levels: int, device: torch.device) -> list[Tensor]:
    """:func:`slot_bands` of every stage, as index tensors."""
    firsts = first_levels(plans)
    last = len(plans) - 1
    return [
        torch.tensor(slot_bands(plan, first, levels, i == last), device=device)
        for i, (plan, first) in enumerate(zip(plans, firsts, strict=True))
    ]


def _positions(plans: tuple[AxisPlan, ...], levels: int) -> list[tuple[int, int, int]]:
    """Per pywt band ``b``: ``(stage, first slot, coefficients per block)``."""
    firsts = first_levels(plans)
    out = [(len(plans) - 1, 0, 1)]  # cA_L: slot 0 of the last stage
    for band in range(1, levels + 1):
        level = levels - band + 1
        stage = max(i for i, first in enumerate(firsts) if first < level)
        count = 1 << (plans[stage].levels - (level - firsts[stage]))
        out.append((stage, count, count))
    return out


def _source_index(target: np.ndarray, step: int, shift: int) -> np.ndarray:
    """Coefficient read by ``target`` from a band ``step`` levels coarser (``< 0``: finer)."""
    return (target >> step) - shift if step > 0 else ((target + 1) << -step) - 1


@cached
def level_reads(
    plans: tuple[AxisPlan, ...], length: int, shift: int, device: torch.device
) -> list[Tensor]:
    """``level`` mixing: per stage, ``(blocks slots (L+1),)`` positions in
    ``[0, stage 0's blocks slots, stage 1's ...]`` (per group; 0 reads a zero) of the
    coefficient each slot reads from each band.

    Target coefficient ``k`` of a band at level ``j`` reads, from a band at level ``j'``:
    ``k`` (same level), ``floor(k / 2^(j'-j)) - shift`` (coarser band: nearest earlier
    coefficient; ``shift = 1`` when causal) or ``2^(j-j') (k + 1) - 1`` (finer band: the
    last coefficient of the block ``k`` covers); reads outside the band are zero, and so
    are the slots that hold no coefficient of a band.
    """
    levels = sum(plan.levels for plan in plans)
    lengths = band_lengths(length, plans[0].taps, levels)
    sizes = [lengths[-1], *lengths[::-1]]  # coefficients of cA_L, cD_L, ..., cD_1
    level = [levels, *range(levels, 0, -1)]
    where = _positions(plans, levels)
    bases = np.cumsum([1] + [plan.blocks * plan.slots for plan in plans])

    def position(band: int, index: np.ndarray) -> np.ndarray:
        stage, first, count = where[band]
        flat = (index // count) * plans[stage].slots + first + index % count
        return bases[stage] + flat

    tables = [np.zeros((p.blocks, p.slots, levels + 1), dtype=np.int64) for p in plans]
    for band, (stage, first, count) in enumerate(where):  # a constant table per plan
        target = count * np.arange(plans[stage].blocks)[:, None] + np.arange(count)
        for source in range(levels + 1):
            read = _source_index(target, level[source] - level[band], shift)
            ok = (read >= 0) & (read < sizes[source]) & (target < sizes[band])
            rows = np.where(ok, position(source, np.where(ok, read, 0)), 0)
            tables[stage][:, first : first + count, source] = rows
    return [torch.tensor(t.reshape(-1), device=device) for t in tables]


__all__ = [
    "approximation",
    "approximation_length",
    "first_levels",
    "level_reads",
    "slot_bands",
    "stage_bands",
]
