"""Parameters and FLOPs for the labels, from ``specdsl.estimate`` when it exists.

This is the only place the diagram touches the estimate: if the ``specdsl.estimate``
module is missing, or a layer has no cost formula yet, the labels go without numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specdsl.schema.spec import Spec

Figures = tuple[int, int]  # (params, forward FLOPs)


@dataclass(frozen=True)
class Costs:
    """Figures at ``seq_len``, batch 1: the whole model, blocks and model-level parts.

    ``blocks`` maps a block index to ONE block's figures; it holds the first block of
    every pattern item (the blocks a collapsed diagram draws), or every block when
    estimated with ``expand=True``. ``parts`` maps ``embedding``, ``positional``,
    ``final_norm`` and ``head`` to their figures.
    """

    seq_len: int
    params: int
    flops: int
    blocks: dict[int, Figures]
    parts: dict[str, Figures]


def _get(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _figures(row: Any) -> Figures:
    return int(_get(row, "params")), int(_get(row, "flops"))


def block_costs(spec: Spec, *, expand: bool = False) -> Costs | None:
    """Estimate ``spec`` at ``max_sequence_length``, batch 1; None when there is no estimate.

    ``expand=True`` lists every block (for the expanded diagram), else one row per
    pattern item, keyed by the index of its first block.
    """
    try:
        from specdsl.estimate import estimate
    except ModuleNotFoundError as err:
        if err.name == "specdsl.estimate":
            return None
        raise
    seq_len = spec.max_sequence_length
    try:
        result = estimate(spec, batch_size=1, seq_len=seq_len, expand=expand)
    except NotImplementedError:  # a layer without a cost formula yet
        return None
    rows = {int(_get(row, "index")): _figures(row) for row in _get(result, "layers")}
    parts = {str(_get(part, "type")): _figures(part) for part in _get(result, "parts")}
    return Costs(seq_len, *_figures(result), rows, parts)
