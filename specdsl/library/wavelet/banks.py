"""The matrices of a block plan (:mod:`.plan`), in float64, read off PyWavelets itself.

Every matrix is the response of ``pywt.dwt`` / ``pywt.idwt`` to unit impulses, so the
block products reproduce pywt by construction (the tests hold them to ``pywt.wavedec`` /
``pywt.waverec``):

* :func:`analysis_matrix` ``(slots, window P)``: coefficient block ``k`` from the input
  blocks ``k - window + 1 .. k`` (zero extension);
* :func:`synthesis_matrix` ``(P, window slots)``: output block ``q`` from the coefficient
  blocks ``q .. q + window - 1``;
* :func:`edge_matrices`: per :class:`~.plan.Edge`, symmetric minus zero extension of its
  blocks, ``(blocks slots, samples)``;
* :func:`dense_analysis_matrix` / :func:`dense_synthesis_matrix`: the whole transforms of
  a short signal (``plan.dense``).

Built once per plan (cached); numpy only, no torch.
"""

from __future__ import annotations

import functools

import numpy as np

from .plan import AxisPlan, band_lengths


def _pywt():
    import pywt  # deferred: only wavelet users need it

    return pywt


def _levels(signals: np.ndarray, plan: AxisPlan, mode: str) -> dict[tuple[int, str], np.ndarray]:
    """Every level's ``lo`` and ``hi`` coefficients of the rows of ``signals``."""
    pywt = _pywt()
    bands, approximation = {}, signals
    for level in range(1, plan.levels + 1):  # built once per plan, outside any forward
        approximation, detail = pywt.dwt(approximation, plan.wavelet, mode, axis=-1)
        bands[(level, "lo")], bands[(level, "hi")] = approximation, detail
    return bands


def _to_blocks(bands: dict[tuple[int, str], np.ndarray], plan: AxisPlan) -> np.ndarray:
    """Arrange level coefficients ``(rows, m_j)`` as ``(rows, blocks, slots)``."""
    rows = next(iter(bands.values())).shape[0]
    out = np.zeros((rows, plan.blocks, plan.slots))
    for (level, kind), start in zip(plan.outputs, plan.slot_starts(), strict=True):
        count = 1 << (plan.levels - level)
        band = bands[(level, kind)][:, : plan.blocks * count]
        padded = np.zeros((rows, plan.blocks * count))
        padded[:, : band.shape[1]] = band
        out[:, :, start : start + count] = padded.reshape(rows, plan.blocks, count)
    return out


def _probe_plan(plan: AxisPlan) -> AxisPlan:
    """A zero-extension plan of ``window`` blocks: its last block is a full interior block."""
    length = plan.window * plan.block
    return AxisPlan(plan.wavelet, plan.levels, length, "zero", plan.pyramid, plan.taps, ())


@functools.cache
def analysis_matrix(plan: AxisPlan) -> np.ndarray:
    """``(slots, window P)``: coefficient block ``k`` from input blocks ``k - window + 1..k``.

    One impulse per phase ``r`` of input block 0 suffices: coefficient block ``k`` reads
    that block at window position ``window - 1 - k``.
    """
    probe = _probe_plan(plan)
    impulses = np.eye(probe.block, probe.length)
    blocks = _to_blocks(_levels(impulses, probe, "zero"), probe)  # (P, blocks, slots)
    reads = blocks[:, probe.window - 1 :: -1, :]  # window position t reads block w - 1 - t
    return np.ascontiguousarray(reads.transpose(2, 1, 0).reshape(probe.slots, -1))


def _reconstruct(level: int, kind: str, impulses: np.ndarray, plan: AxisPlan) -> np.ndarray:
    """pywt's multilevel synthesis of one band's coefficients (rows), others zero."""
    pywt = _pywt()
    lengths = [plan.length, *band_lengths(plan.length, plan.taps, plan.levels)]
    zeros = np.zeros_like(impulses)
    low, high = (impulses, zeros) if kind == "lo" else (zeros, impulses)
    signal = pywt.idwt(low, high, plan.wavelet, "zero", axis=-1)[:, : lengths[level - 1]]
    for below in range(level - 1, 0, -1):  # built once per plan, outside any forward
        signal = pywt.idwt(signal, np.zeros_like(signal), plan.wavelet, "zero", axis=-1)
        signal = signal[:, : lengths[below - 1]]
    return signal


@functools.cache
def synthesis_matrix(plan: AxisPlan) -> np.ndarray:
    """``(P, window slots)``: output block ``q`` from coefficient blocks ``q..q+window-1``."""
    probe = _probe_plan(plan)
    lengths = band_lengths(probe.length, probe.taps, probe.levels)
    last = probe.window - 1
    out = np.zeros((probe.block, probe.window, probe.slots))
    for (level, kind), start in zip(probe.outputs, probe.slot_starts(), strict=True):
        count = 1 << (probe.levels - level)
        impulses = np.zeros((count, lengths[level - 1]))
        impulses[np.arange(count), count * last + np.arange(count)] = 1.0
        response = _reconstruct(level, kind, impulses, probe)  # (count, window P)
        blocks = response.reshape(count, probe.window, probe.block)
        # window position t holds coefficient block q + t, read by output block q = last - t
        out[:, :, start : start + count] = blocks[:, ::-1, :].transpose(2, 1, 0)
    return out.reshape(probe.block, probe.window * probe.slots)


@functools.cache
def dense_analysis_matrix(plan: AxisPlan) -> np.ndarray:
    """``(blocks slots, length)``: the whole analysis of a short signal, in ``plan.mode``."""
    blocks = _to_blocks(_levels(np.eye(plan.length), plan, plan.mode), plan)
    return np.ascontiguousarray(blocks.reshape(plan.length, -1).T)


@functools.cache
def dense_synthesis_matrix(plan: AxisPlan, outputs: int) -> np.ndarray:
    """``(outputs, blocks slots)``: the first ``outputs`` samples of the whole synthesis."""
    band = synthesis_matrix(plan)  # (P, window slots)
    width = band.shape[1]
    full = np.zeros((plan.blocks * plan.block, (plan.blocks + plan.window - 1) * plan.slots))
    for q in range(plan.blocks):  # built once per plan, outside any forward
        rows, first = slice(q * plan.block, (q + 1) * plan.block), q * plan.slots
        full[rows, first : first + width] = band
    return np.ascontiguousarray(full[:outputs, : plan.blocks * plan.slots])


@functools.cache
def edge_matrices(plan: AxisPlan) -> tuple[np.ndarray, ...]:
    """Per edge, ``(blocks slots, samples)``: the symmetric minus the zero extension."""
    out = []
    for edge in plan.edges:
        impulses = np.zeros((edge.samples, plan.length))
        impulses[np.arange(edge.samples), edge.first_sample + np.arange(edge.samples)] = 1.0
        exact = _to_blocks(_levels(impulses, plan, "symmetric"), plan)
        zero = _to_blocks(_levels(impulses, plan, "zero"), plan)
        part = (exact - zero)[:, edge.first_block : edge.first_block + edge.blocks]
        out.append(np.ascontiguousarray(part.reshape(edge.samples, -1).T))
    return tuple(out)


__all__ = [
    "analysis_matrix",
    "dense_analysis_matrix",
    "dense_synthesis_matrix",
    "edge_matrices",
    "synthesis_matrix",
]
