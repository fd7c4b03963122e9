"""Per-block parameters and FLOPs for the labels, from ``specdsl.estimate`` when it exists.

This is the only place the diagram touches the estimate: if the ``specdsl.estimate``
module is missing, or a layer has no cost formula yet, the labels simply go without numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specdsl.schema.spec import Spec


@dataclass(frozen=True)
class Costs:
    """Parameters and forward FLOPs at ``seq_len`` (batch 1): per block and in total."""

    seq_len: int
    params: int
    flops: int
    blocks: dict[int, tuple[int, int]]  # block index -> (params, flops)

    def span(self, first: int, stop: int) -> tuple[int, int]:
        """Summed ``(params, flops)`` of blocks ``first .. stop - 1``."""
        rows = [self.blocks[i] for i in range(first, stop) if i in self.blocks]
        return sum(r[0] for r in rows), sum(r[1] for r in rows)


def _get(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def block_costs(spec: Spec) -> Costs | None:
    """Estimate ``spec`` at ``max_sequence_length``, batch 1; None when no estimate exists."""
    try:
        from specdsl.estimate import estimate
    except ModuleNotFoundError as err:
        if err.name == "specdsl.estimate":
            return None
        raise
    seq_len = spec.max_sequence_length
    try:
        result = estimate(spec, batch_size=1, seq_len=seq_len)
    except NotImplementedError:  # a layer without a cost formula yet
        return None
    if isinstance(result, list):
        result = result[0]
    rows = {int(_get(r, "index")): (int(_get(r, "params")), int(_get(r, "flops"))) for r in _get(result, "layers")}
    return Costs(seq_len, int(_get(result, "params")), int(_get(result, "flops")), rows)
