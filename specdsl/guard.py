"""Resource limits checked before any weight is allocated (no torch).

:func:`check_limits` refuses specs whose estimate is too large: the block count first
(counted without expanding repeats), then parameters, parameter bytes and the activation
memory of one training sample at ``max_sequence_length``, all from the estimate
(:mod:`specdsl.estimate`), so ``repeat 1000000000 [fourier]`` or
``hidden_dim: 1000000000000`` is refused in milliseconds.
"""

from __future__ import annotations

from specdsl.errors import SpecError
from specdsl.schema.spec import Spec, count_blocks

GiB = 2**30
MAX_BLOCKS = 10_000
MAX_PARAMS = 2_000_000_000
MAX_PARAM_BYTES = 8 * GiB
MAX_ACTIVATION_BYTES = 1024 * GiB  # generous: models often run far below their max length


def _limit(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number or None (no limit), got {value!r}")
    return value


def _refuse(what: str, figure: int, limit: float, keyword: str) -> SpecError:
    flag = "--" + keyword.replace("_", "-")
    return SpecError(
        f"the model has {figure:,} {what}, over the limit of {int(limit):,}"
        f" (raise it with {keyword}= or {flag})"
    )


def check_limits(
    spec: Spec,
    max_blocks: int | None = MAX_BLOCKS,
    max_params: float | None = MAX_PARAMS,
    max_param_bytes: float | None = MAX_PARAM_BYTES,
    max_activation_bytes: float | None = MAX_ACTIVATION_BYTES,
) -> None:
    """Refuse a spec whose size exceeds a limit, before anything is built.

    Parameters
    ----------
    spec : Spec
        A validated spec.
    max_blocks : int or None
        Most blocks after expanding repeats (default 10,000).
    max_params : float or None
        Most parameters (default 2e9).
    max_param_bytes : float or None
        Most bytes of float32 parameters (default 8 GiB).
    max_activation_bytes : float or None
        Most bytes kept for backward by one training sample at ``max_sequence_length``
        (default 1 TiB).

    Each limit may be None (no limit). Raises SpecError naming the figure, the limit and
    how to raise it; ValueError for a limit that is not a positive number.
    """
    limits = {
        "max_blocks": _limit("max_blocks", max_blocks),
        "max_params": _limit("max_params", max_params),
        "max_param_bytes": _limit("max_param_bytes", max_param_bytes),
        "max_activation_bytes": _limit("max_activation_bytes", max_activation_bytes),
    }
    blocks = count_blocks(spec.layers)
    if limits["max_blocks"] is not None and blocks > limits["max_blocks"]:
        raise _refuse("blocks", blocks, limits["max_blocks"], "max_blocks")
    if all(
        limits[name] is None for name in ("max_params", "max_param_bytes", "max_activation_bytes")
    ):
        return
    from specdsl.estimate import estimate

    try:
        figures = estimate(spec, batch_size=1, seq_len=spec.max_sequence_length)
    except NotImplementedError:
        return  # a layer without a cost formula: nothing to check against (reported by tests)
    n = spec.max_sequence_length
    checks = (
        ("parameters", figures.params, "max_params"),
        ("bytes of float32 parameters", figures.param_bytes, "max_param_bytes"),
        (
            f"activation bytes per sample at n={n:,}",
            figures.activation_bytes,
            "max_activation_bytes",
        ),
    )
    for what, figure, keyword in checks:
        limit = limits[keyword]
        if limit is not None and figure > limit:
            raise _refuse(what, figure, limit, keyword)


__all__ = [
    "MAX_ACTIVATION_BYTES",
    "MAX_BLOCKS",
    "MAX_PARAMS",
    "MAX_PARAM_BYTES",
    "check_limits",
]
