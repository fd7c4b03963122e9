"""Torch side of the block plans: all levels of a DWT in one product, and its inverse.

A plan (:mod:`.plan`) turns a ``levels``-level DWT along dim 1 of ``(G, n, d)`` into a
banded block-Toeplitz product: each output block is one ``(rows, window * block)`` matrix
times the sliding window of ``window`` input blocks, taken as an overlapping strided view
(no copy) and run as one batched matrix product over all blocks of all ``G`` signals.
Blocks are laid out back to back; every signal's coefficient blocks end with
``window - 1`` blocks that read only its zero padding, so the windows of one signal never
reach another's data. The layout is ``(G * blocks + window - 1, slots, d)``: the trailing
``window - 1`` zero blocks are the slack the synthesis windows read past the last signal.

These maps are constant and linear, so :class:`ConstantLinear` runs them under autograd
without saving anything: the backward pass is the adjoint map, itself a block product of
the same kind (transposed, reversed window). :func:`analysis` / :func:`synthesis` return
cached ops per ``(plan, dtype, device)``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from specdsl.transforms._common import cached_constant

from .banks import (
    analysis_matrix,
    dense_analysis_matrix,
    dense_synthesis_matrix,
    edge_matrices,
    synthesis_matrix,
)
from .plan import AxisPlan


def _tensor(array: Any, dtype: torch.dtype, device: torch.device) -> Tensor:
    return torch.tensor(array, dtype=dtype, device=device)


def _adjoint_matrix(matrix: Tensor, window: int) -> Tensor:
    """``(cols, window rows)`` with block ``u`` = block ``window - 1 - u`` transposed."""
    rows = matrix.shape[0]
    blocks = matrix.view(rows, window, -1).flip(1)  # (rows, window, cols)
    return blocks.permute(2, 1, 0).reshape(-1, window * rows).contiguous()


def banded(source: Tensor, count: int, matrix: Tensor) -> Tensor:
    """``out[s] = matrix @ source[s : s + window].flatten(0, 1)`` for ``s < count``.

    ``source`` is ``(>= count + window - 1, cols, d)`` contiguous; ``matrix`` is
    ``(rows, window * cols)``. Returns ``(count, rows, d)``.
    """
    cols, width = source.shape[1], source.shape[2]
    window = matrix.shape[1] // cols
    views = source.as_strided((count, window * cols, width), (cols * width, width, 1))
    return torch.matmul(matrix, views)


def framed(x: Tensor, length: int, offset: int, before: int, after: int) -> Tensor:
    """``(before + G length + after, d)``: each group ``x[g]`` ``(n, d)`` at ``offset`` of a
    ``length``-row frame, zeros elsewhere (only the zeros are written, not the whole)."""
    groups, n, width = x.shape
    out = x.new_empty(before + groups * length + after, width)
    out[:before].zero_()
    out[before + groups * length :].zero_()
    body = out[before : before + groups * length].view(groups, length, width)
    body[:, :offset].zero_()
    body[:, offset + n :].zero_()
    body[:, offset : offset + n] = x
    return out


class BlockOp:
    """A constant linear map with its adjoint (both run without autograd)."""

    def apply(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def adjoint(self, grad: Tensor, shape: torch.Size) -> Tensor:
        raise NotImplementedError


class ConstantLinear(torch.autograd.Function):
    """``op.apply(x)`` under autograd; nothing is saved, the backward is the adjoint."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, op: BlockOp) -> Tensor:
        ctx.op, ctx.shape = op, x.shape
        return op.apply(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return ConstantLinear.apply(grad, _Adjoint(ctx.op, ctx.shape)), None


class _Adjoint(BlockOp):
    """The adjoint of ``op`` at input shape ``shape`` (its own adjoint is ``op``)."""

    def __init__(self, op: BlockOp, shape: torch.Size) -> None:
        self.op, self.shape = op, shape

    def apply(self, x: Tensor) -> Tensor:
        return self.op.adjoint(x.contiguous(), self.shape)

    def adjoint(self, grad: Tensor, shape: torch.Size) -> Tensor:
        return self.op.apply(grad)


def _slack(flat: Tensor, slots: int, window: int) -> Tensor:
    """``(G, blocks slots, d)`` as a coefficient buffer: ``window - 1`` zero blocks appended."""
    rows = flat.reshape(-1, slots, flat.shape[-1])
    return F.pad(rows, (0, 0, 0, 0, 0, window - 1))


class Analysis(BlockOp):
    """``(G, n, d)`` -> coefficient buffer ``(G blocks + window - 1, slots, d)``.

    The signal of each group is ``offset`` zeros followed by the ``n`` inputs (``offset +
    n == plan.length``); coefficient block ``k`` of group ``g`` is row ``g blocks + k``.
    A dense plan is one ``(blocks slots, n)`` product per group.
    """

    def __init__(self, plan: AxisPlan, offset: int, dtype: torch.dtype, device: torch.device):
        self.plan, self.offset = plan, offset
        if plan.dense:
            self.matrix = _tensor(dense_analysis_matrix(plan)[:, offset:], dtype, device)
            return
        matrix = _tensor(analysis_matrix(plan), dtype, device)
        self.matrix, self.transposed = matrix, _adjoint_matrix(matrix, plan.window)
        self.edges = [_tensor(e, dtype, device) for e in edge_matrices(plan)]

    def apply(self, x: Tensor) -> Tensor:
        p = self.plan
        groups, width = x.shape[0], x.shape[2]
        if p.dense:
            return _slack(torch.matmul(self.matrix, x), p.slots, p.window)
        # the last window - 1 windows read only zeros: they are the buffer's zero slack
        margin = (p.window - 1) * p.block
        source = framed(x, p.blocks * p.block, self.offset, margin, margin)
        out = banded(source.view(-1, p.block, width), p.rows(groups), self.matrix)
        flat = out[: groups * p.blocks].view(groups, -1, width)
        for edge, matrix in zip(p.edges, self.edges, strict=True):
            rows = slice(edge.first_block * p.slots, edge.end_slot(p.slots))
            flat[:, rows] += torch.matmul(matrix, x[:, edge.first_sample : edge.end_sample])
        return out

    def adjoint(self, grad: Tensor, shape: torch.Size) -> Tensor:
        p = self.plan
        groups, n, width = shape
        count = groups * p.blocks
        coefficients = grad[:count].view(groups, -1, width)
        if p.dense:
            return torch.matmul(self.matrix.T, coefficients)
        lead = (p.window - 1) * p.slots
        padded = framed(coefficients.view(1, -1, width), count * p.slots, 0, lead, lead)
        source = banded(padded.view(-1, p.slots, width), count + p.window - 1, self.transposed)
        flat = source[p.window - 1 :].view(groups, p.blocks * p.block, width)
        out = flat[:, self.offset : self.offset + n]
        for edge, matrix in zip(p.edges, self.edges, strict=True):
            rows = coefficients[:, edge.first_block * p.slots : edge.end_slot(p.slots)]
            out[:, edge.first_sample : edge.end_sample] += torch.matmul(matrix.T, rows)
        return out


class Synthesis(BlockOp):
    """Coefficient buffer ``(G blocks + window - 1, slots, d)`` -> the first ``length``
    samples of every group's reconstruction, ``(G, length, d)``. A dense plan is one
    ``(length, blocks slots)`` product per group."""

    def __init__(self, plan: AxisPlan, length: int, dtype: torch.dtype, device: torch.device):
        self.plan, self.length = plan, length
        if plan.dense:
            self.matrix = _tensor(dense_synthesis_matrix(plan, length), dtype, device)
            return
        matrix = _tensor(synthesis_matrix(plan), dtype, device)
        self.matrix, self.transposed = matrix, _adjoint_matrix(matrix, plan.window)

    def groups(self, rows: int) -> int:
        """Signals in a coefficient buffer of ``rows`` rows."""
        return (rows - self.plan.window + 1) // self.plan.blocks

    def apply(self, x: Tensor) -> Tensor:
        p = self.plan
        x = x.contiguous()
        groups = self.groups(x.shape[0])
        count = groups * p.blocks
        if p.dense:
            return torch.matmul(self.matrix, x[:count].view(groups, -1, x.shape[-1]))
        out = banded(x, count, self.matrix)  # (G blocks, P, d)
        return out.view(groups, p.blocks * p.block, -1)[:, : self.length]

    def adjoint(self, grad: Tensor, shape: torch.Size) -> Tensor:
        p = self.plan
        groups, width = self.groups(shape[0]), shape[2]
        count, lead = groups * p.blocks, p.window - 1
        if p.dense:
            return _slack(torch.matmul(self.matrix.T, grad), p.slots, p.window)
        padded = framed(grad, p.blocks * p.block, 0, lead * p.block, lead * p.block)
        return banded(padded.view(-1, p.block, width), count + lead, self.transposed)


@cached_constant
def _analysis(plan: AxisPlan, offset: int, dtype: torch.dtype, device: torch.device) -> Analysis:
    return Analysis(plan, offset, dtype, device)


@cached_constant
def _synthesis(plan: AxisPlan, length: int, dtype: torch.dtype, device: torch.device) -> Synthesis:
    return Synthesis(plan, length, dtype, device)


def analysis(plan: AxisPlan, offset: int, like: Tensor) -> Analysis:
    """The cached analysis op of ``plan`` for tensors like ``like``."""
    return _analysis(plan, offset, like.dtype, like.device)


def synthesis(plan: AxisPlan, length: int, like: Tensor) -> Synthesis:
    """The cached synthesis op of ``plan`` (output ``length`` samples) for tensors like
    ``like``."""
    return _synthesis(plan, length, like.dtype, like.device)


def linear(x: Tensor, op: BlockOp) -> Tensor:
    """``op.apply(x)`` with autograd through :class:`ConstantLinear`."""
    return ConstantLinear.apply(x, op)


__all__ = ["Analysis", "BlockOp", "ConstantLinear", "Synthesis", "analysis", "banded", "linear"]
