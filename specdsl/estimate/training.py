"""Training memory: weights, gradients, optimizer state and activations (``estimate --train``).

The model is trained in one dtype (weights, gradients, optimizer state and activations
alike, what ``model.to(dtype)`` with a ``torch.optim`` optimizer gives). Activations are
the estimate's ``activation_bytes``: the tensors one forward keeps for backward. With
gradient checkpointing (``torch.utils.checkpoint`` around each block, as the compiled model
does) a block keeps only its input, and backward recomputes one block at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from specdsl.estimate.engine import Plan, check_count
from specdsl.estimate.model import TrainingMemory
from specdsl.library import Dims

#: Optimizer state per parameter, in parameters: Adam's two moments; plain SGD none.
OPTIMIZER_STATES = {"adam": 2, "sgd": 0}
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)
#: ``torch.utils.checkpoint`` keeps the CPU generator's state per checkpointed block so the
#: recomputation draws the same dropout masks (``torch.get_rng_state()``: 5056 bytes).
CHECKPOINT_RNG_BYTES = 5056
_LARGEST_BATCH = 2**62  # search bound: a model whose activations do not grow with the batch


def parse_bytes(text: str) -> int:
    """``"80GB"`` -> 80e9, ``"16GiB"`` -> 16 * 2**30, ``"512"`` -> 512 bytes.

    Units: B, KB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024),
    any case. Raises ValueError naming the text when it is not a positive size.
    """
    match = _SIZE.match(str(text))
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"memory size must look like 80GB, 16GiB or 512MB, got {text!r}")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < 1:
        raise ValueError(f"memory size must be positive, got {text!r}")
    return size


def _activations(plan: Plan, dims: Dims) -> tuple[int, int, int]:
    """``(all kept, kept with checkpointing, one block recomputed)`` activation bytes."""
    costs = plan.block_costs(dims)
    parts = sum(cost.activation_bytes for _, _, cost in plan.parts(dims))
    full = parts + sum(
        c.activation_bytes * item.count for item, c in zip(plan.items, costs, strict=True)
    )
    block_input = dims.batch * dims.seq_len * dims.hidden_dim * dims.dtype_bytes
    kept = parts + plan.num_blocks * (block_input + CHECKPOINT_RNG_BYTES)
    recompute = max((c.activation_bytes for c in costs), default=0)
    return full, kept + recompute, recompute


def training_memory(
    plan: Plan,
    batch_size: int,
    seq_len: int,
    dtype: str = "float32",
    optimizer: str = "adam",
    checkpointing: bool | None = None,
    memory_limit: int | None = None,
) -> TrainingMemory:
    """Memory of one training step of ``plan``'s model at ``batch_size`` x ``seq_len``.

    Parameters
    ----------
    plan : Plan
        The resolved spec (:func:`specdsl.estimate.plan`).
    batch_size, seq_len : int
        Shape of a training batch.
    dtype : {"float32", "bfloat16", "float16", "float64"}
        Training dtype of weights, gradients, optimizer state and activations.
    optimizer : {"adam", "sgd"}
        Adam keeps two moments per parameter; plain SGD (no momentum) keeps none.
    checkpointing : bool, optional
        Whether ``total_bytes`` uses checkpointed activations (default: the spec's
        ``gradient_checkpointing``).
    memory_limit : int, optional
        Bytes available; fills ``max_batch_size``, the largest batch whose total fits.
    """
    if optimizer not in OPTIMIZER_STATES:
        raise ValueError(
            f"optimizer must be one of {', '.join(OPTIMIZER_STATES)}, got {optimizer!r}"
        )
    check_count("batch_size", batch_size)
    check_count("seq_len", seq_len)
    if memory_limit is not None:
        check_count("memory_limit", memory_limit)
    use_checkpoints = plan.spec.gradient_checkpointing if checkpointing is None else checkpointing
    dims = plan.dims(batch_size, seq_len, dtype)
    weights = plan.total(dims).params * dims.dtype_bytes
    states = weights * OPTIMIZER_STATES[optimizer]
    fixed = 2 * weights + states  # weights and gradients, optimizer state
    full, kept, recompute = _activations(plan, dims)

    def fits(batch: int) -> bool:
        full, kept, _ = _activations(plan, plan.dims(batch, seq_len, dtype))
        return fixed + (kept if use_checkpoints else full) <= memory_limit  # type: ignore[operator]

    return TrainingMemory(
        dtype=dtype,
        optimizer=optimizer,
        checkpointing=use_checkpoints,
        weight_bytes=weights,
        gradient_bytes=weights,
        optimizer_bytes=states,
        activation_bytes=full,
        activation_bytes_checkpointed=kept,
        recompute_bytes=recompute,
        total_bytes=fixed + (kept if use_checkpoints else full),
        total_bytes_checkpointed=fixed + kept,
        memory_limit=memory_limit,
        max_batch_size=None if memory_limit is None else largest(fits),
    )


def largest(fits: Callable[[int], bool]) -> int:
    """The largest ``b >= 1`` with ``fits(b)`` (0 if none), for a monotone predicate."""
    if not fits(1):
        return 0
    low, high = 1, 2
    while high <= _LARGEST_BATCH and fits(high):
        low, high = high, high * 2
    if high > _LARGEST_BATCH:
        return low
    while high - low > 1:  # fits(low), not fits(high)
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


__all__ = ["CHECKPOINT_RNG_BYTES", "OPTIMIZER_STATES", "largest", "parse_bytes", "training_memory"]
