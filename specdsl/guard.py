"""Resource limits checked before any weight is allocated."""

from __future__ import annotations

from specdsl.errors import SpecError
from specdsl.schema.spec import Spec, count_blocks

MAX_BLOCKS = 10_000


def check_limits(spec: Spec, max_blocks: int = MAX_BLOCKS) -> None:
    """Refuse specs whose size exceeds the limits (raises SpecError naming the figure)."""
    blocks = count_blocks(spec.layers)
    if blocks > max_blocks:
        raise SpecError(
            f"the pattern expands to {blocks:,} blocks, over the limit of {max_blocks:,}"
            " (raise it with max_blocks= or --max-blocks)"
        )
