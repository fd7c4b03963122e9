"""Block plans of the loop-free wavelet mixers: sizes only, torch-free (the costs use them).

A ``levels``-level DWT with pywt's conventions (filter length ``F``, extension ``"zero"``
or ``"symmetric"``) is laid out on blocks of ``P = 2**levels`` samples. Coefficient block
``k`` holds, for each output band of level ``j``, the ``2**(levels - j)`` coefficients
``o = 2**(levels - j) k + r``. Such a coefficient reads the samples
``[2^j o - (F - 2)(2^j - 1), 2^j o + 2^j - 1]``, so block ``k`` reads exactly the input
blocks ``k - window + 1 .. k`` with ``window = 1 + ceil((F - 2)(P - 1) / P)``:

* with zero extension every level is the restriction of the transform of the infinitely
  zero-padded signal, so **all levels of all blocks** come from one product of a
  ``(slots x window P)`` matrix with the sliding windows of input blocks;
* the symmetric extension of level ``j`` reflects the approximation of level ``j - 1``, which
  is no restriction of one extended signal; it differs from the zero-extension product only
  in the first ``window - 1`` and the last few blocks, which read only the first and the
  last few samples (bounded by following the reflections level by level). Those blocks
  get an additive correction: one ``(blocks slots x samples)`` matrix per end
  (:class:`Edge`);
* a short signal (fewer than ``window P`` samples, or a level shorter than ``F - 1``
  coefficients, whose symmetric extension reflects more than once) is a *dense* plan: the
  whole analysis is one ``(blocks slots x n)`` matrix and the synthesis one
  ``(n x blocks slots)`` matrix (cheaper than the windows there);
* synthesis (pywt's ``idwt``: a transposed convolution keeping ``2 m - F + 2`` samples,
  then the approximation trimmed to the detail's length) equals the restriction of the
  infinite synthesis in every mode: a value cut at one level only ever reaches samples
  that the next level cuts too. So the output block ``q`` is one product with the
  coefficient blocks ``q .. q + window - 1``.

Deep decompositions are chained: one block product reads ``(F - 1)(P - 1) + P`` samples per
``P = 2**levels`` outputs, so its work per sample grows as ``(F - 1) 2^levels``. A stage
therefore takes at most :func:`stage_levels` levels (``(F - 1) 2^s <= 128``: 4 for db4,
7 for haar, 2 for coif5), and :func:`stages` splits ``levels`` into stages from the finest
level: each next stage decomposes the previous one's approximation (exactly pywt's
recursion). The defaults (``wavelet``: db4, 3 levels; ``wavelet_2d``: 2) are one stage.

Slot layouts: the 1-D mixer keeps pywt's bands ``[cA_L, cD_L, ..., cD_1]`` (``P`` slots,
band ``b`` in slots ``[2^(b-1), 2^b)``); the 2-D mixer needs every level's approximation
too (``lo`` and ``hi`` of each level: ``2 P - 2`` slots), see :func:`outputs`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

#: "lo" (approximation) or "hi" (detail) output of one level.
Output = tuple[int, str]


def band_lengths(n: int, taps: int, levels: int) -> list[int]:
    """Coefficients per level of a symmetric/zero-mode DWT: ``m_j = (m_{j-1} + F - 1) // 2``.

    Returns ``[m_1, ..., m_levels]`` (finest first) for an input of length ``n``.
    """
    out = []
    for _ in range(levels):
        n = (n + taps - 1) // 2
        out.append(n)
    return out


def outputs(levels: int, pyramid: bool) -> tuple[Output, ...]:
    """Output bands in slot order: ``(level, "lo" | "hi")``.

    ``pyramid=False``: pywt's ``[cA_L, cD_L, cD_{L-1}, ..., cD_1]``;
    ``pyramid=True``: ``[lo_L, hi_L, lo_{L-1}, hi_{L-1}, ..., lo_1, hi_1]``.
    """
    if pyramid:
        return tuple((j, kind) for j in range(levels, 0, -1) for kind in ("lo", "hi"))
    return ((levels, "lo"), *((j, "hi") for j in range(levels, 0, -1)))


@dataclass(frozen=True)
class Edge:
    """Blocks ``[first_block, first_block + blocks)`` corrected from the samples
    ``[first_sample, first_sample + samples)`` (symmetric extension only)."""

    first_block: int
    blocks: int
    first_sample: int
    samples: int

    @property
    def end_sample(self) -> int:
        """One past the last sample read."""
        return self.first_sample + self.samples

    def end_slot(self, slots: int) -> int:
        """One past the last corrected coefficient of a group, at ``slots`` per block."""
        return (self.first_block + self.blocks) * slots


@dataclass(frozen=True)
class AxisPlan:
    """The block layout of one DWT axis of ``length`` samples (see the module docstring)."""

    wavelet: str
    levels: int
    length: int
    mode: str
    pyramid: bool
    taps: int
    edges: tuple[Edge, ...]
    dense: bool = False

    @property
    def block(self) -> int:
        """Samples per block, ``P = 2**levels``."""
        return 1 << self.levels

    @property
    def window(self) -> int:
        """Input blocks read by one coefficient block, ``1 + ceil((F - 2)(P - 1) / P)``."""
        return 1 + -(-(self.taps - 2) * (self.block - 1) // self.block)

    @property
    def blocks(self) -> int:
        """Coefficient blocks per signal: every block the output can read,
        ``ceil(length / P) + window - 1``."""
        return -(-self.length // self.block) + self.window - 1

    @property
    def outputs(self) -> tuple[Output, ...]:
        """Output bands in slot order (:func:`outputs`)."""
        return outputs(self.levels, self.pyramid)

    @property
    def slots(self) -> int:
        """Coefficients per block: ``P`` (1-D mixer) or ``2 P - 2`` (pyramid)."""
        return sum(1 << (self.levels - j) for j, _ in self.outputs)

    def slot_starts(self) -> list[int]:
        """First slot of each output band."""
        starts, at = [], 0
        for j, _ in self.outputs:
            starts.append(at)
            at += 1 << (self.levels - j)
        return starts

    def filled(self) -> tuple[int, ...]:
        """Flat indices ``block slots + slot`` of the slots that hold a coefficient (those
        past the end of their band, ``o >= m_j``, stay zero)."""
        lengths = band_lengths(self.length, self.taps, self.levels)
        out = []
        for k in range(self.blocks):  # a constant table, built once per plan
            for (level, _), start in zip(self.outputs, self.slot_starts(), strict=True):
                count = 1 << (self.levels - level)
                for r in range(count):
                    if count * k + r < lengths[level - 1]:
                        out.append(k * self.slots + start + r)
        return tuple(sorted(out))

    def rows(self, groups: int) -> int:
        """Rows of a coefficient buffer of ``groups`` signals: their blocks plus
        ``window - 1`` zero blocks of slack that the synthesis windows may read."""
        return groups * self.blocks + self.window - 1

    def analysis_flops(self, groups: int, width: int, inputs: int) -> int:
        """Matrix-product FLOPs of the analysis of ``groups`` signals of ``width`` channels
        whose last ``inputs`` samples are given (the others are zero)."""
        if self.dense:
            return 2 * groups * self.blocks * self.slots * width * inputs
        edges = sum(2 * groups * e.blocks * self.slots * e.samples * width for e in self.edges)
        return 2 * self.rows(groups) * self.slots * width * self.window * self.block + edges

    def synthesis_flops(self, groups: int, width: int, outputs: int) -> int:
        """Matrix-product FLOPs of the first ``outputs`` samples of the synthesis of
        ``groups`` signals of ``width`` channels."""
        coefficients = 2 * groups * self.blocks * self.slots * width
        return coefficients * (outputs if self.dense else self.window * self.block)


def _left_reach(
    lengths: list[int], taps: int, levels: int, plan_outputs: tuple[Output, ...], blocks: int
) -> int | None:
    """Last sample read by the symmetric transform of blocks ``< blocks``; ``None`` when a
    read reflects at the right end too."""
    reach = -1
    for j, _ in plan_outputs:
        for o in range(min(blocks << (levels - j), lengths[j])):
            index = o
            for i in range(j, 0, -1):  # level i reads level i-1 at [2o + 2 - F, 2o + 1]
                if 2 * index + 1 >= lengths[i - 1]:
                    return None
                index = max(2 * index + 1, taps - 3 - 2 * index)
            reach = max(reach, index)
    return reach


def _right_reach(
    lengths: list[int], taps: int, levels: int, plan_outputs: tuple[Output, ...], first: int
) -> int | None:
    """First sample read by the symmetric transform of blocks ``>= first``; ``None`` when a
    read reflects at the left end too."""
    low = lengths[0]
    for j, _ in plan_outputs:
        for o in range(first << (levels - j), lengths[j]):
            index = o
            for i in range(j, 0, -1):
                if 2 * index + 2 - taps < 0:
                    return None
                top, m = 2 * index + 1, lengths[i - 1]
                index = min(2 * index + 2 - taps, 2 * m - 2 - 2 * index if top >= m else top)
            low = min(low, index)
    return low


def _edges(
    wavelet: str, levels: int, length: int, taps: int, pyramid: bool
) -> tuple[Edge, ...] | None:
    """The corrected blocks of a symmetric-extension plan (see the module docstring);
    ``None`` when the ends cannot be corrected separately."""
    probe = AxisPlan(wavelet, levels, length, "symmetric", pyramid, taps, ())
    lengths = [length, *band_lengths(length, taps, levels)]
    left_blocks, right_first = probe.window - 1, length // probe.block
    if min(lengths[:-1]) < taps - 1 or left_blocks > right_first:
        return None
    right_end = min(probe.blocks, lengths[-1])  # later blocks hold no coefficient
    reach = _left_reach(lengths, taps, levels, probe.outputs, left_blocks)
    low = _right_reach(lengths, taps, levels, probe.outputs, right_first)
    if reach is None or low is None:
        return None
    edges = []
    if left_blocks:
        edges.append(Edge(0, left_blocks, 0, reach + 1))
    if right_end > right_first:
        edges.append(Edge(right_first, right_end - right_first, low, length - low))
    return tuple(edges)


@functools.cache
def filled_count(plan: AxisPlan) -> int:
    """Number of slots of ``plan`` that hold a coefficient (:meth:`AxisPlan.filled`)."""
    return len(plan.filled())


#: Largest ``(F - 1) 2^s`` of one stage (:func:`stage_levels`).
STAGE_BUDGET = 128


def stage_levels(taps: int) -> int:
    """Levels of one stage: the largest ``s >= 1`` with ``(F - 1) 2^s <= STAGE_BUDGET``."""
    return max(1, (STAGE_BUDGET // (taps - 1)).bit_length() - 1)


@functools.cache
def stages(
    wavelet: str, levels: int, length: int, mode: str, pyramid: bool
) -> tuple[AxisPlan, ...]:
    """The plans of a ``levels``-level DWT split into stages of at most
    :func:`stage_levels` levels, finest first: stage ``i + 1`` transforms the ``m`` samples
    of stage ``i``'s approximation (``plan.length`` is each stage's input length)."""
    from specdsl.library.wavelet import filter_length

    taps = filter_length(wavelet)
    out: list[AxisPlan] = []
    done = 0
    while done < levels:  # sizes only, a handful of stages
        depth = min(stage_levels(taps), levels - done)
        out.append(axis_plan(wavelet, depth, length, mode, pyramid))
        length = band_lengths(length, taps, depth)[-1]
        done += depth
    return tuple(out)


@functools.cache
def compact_grid(plan_h: AxisPlan, plan_w: AxisPlan) -> bool:
    """Whether a 2-D grid runs *compact*: one dense matrix per axis on the filled slots only
    (``filled x n`` each way), chosen where its matrix products are no more than those of
    the block layout (small and moderate grids; the block layout is what keeps large grids
    linear in ``n``)."""
    height, width = plan_h.length, plan_w.length
    rows_h, rows_w = filled_count(plan_h), filled_count(plan_w)
    compact = height * rows_w * (width + rows_h) + rows_h * width * (rows_w + height)
    row = plan_w.blocks * plan_w.slots
    blocks = plan_w.analysis_flops(height, 1, width) + plan_w.synthesis_flops(height, 1, width)
    blocks += plan_h.analysis_flops(1, row, height) + plan_h.synthesis_flops(1, row, height)
    return 2 * compact <= blocks


@functools.cache
def axis_plan(wavelet: str, levels: int, length: int, mode: str, pyramid: bool) -> AxisPlan:
    """The plan of a ``levels``-level DWT of ``length`` samples (``mode`` "zero" or
    "symmetric"); ``pyramid`` selects the 2-D slot layout (:func:`outputs`)."""
    from specdsl.library.wavelet import filter_length

    if mode not in ("zero", "symmetric"):
        raise ValueError(f"mode must be 'zero' or 'symmetric', got {mode!r}")
    if length < 1 or levels < 1:
        raise ValueError(f"length and levels must be >= 1, got {length} and {levels}")
    taps = filter_length(wavelet)
    edges = _edges(wavelet, levels, length, taps, pyramid) if mode == "symmetric" else ()
    plan = AxisPlan(wavelet, levels, length, mode, pyramid, taps, edges or ())
    if edges is None or length < plan.window * plan.block:
        return AxisPlan(wavelet, levels, length, mode, pyramid, taps, (), dense=True)
    return plan


__all__ = [
    "AxisPlan",
    "Edge",
    "axis_plan",
    "band_lengths",
    "compact_grid",
    "filled_count",
    "outputs",
    "stage_levels",
    "stages",
]
