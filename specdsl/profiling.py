"""Measure a compiled model: forward time and peak memory, next to the estimate (torch).

What is measured
----------------
``forward time``
    Wall-clock seconds of one ``model(...)`` call on random input, after ``warmup`` untimed
    calls; on CUDA the device is synchronised before and after each call.
``peak_bytes``
    The most tensor memory alive at once during one forward, above what was alive when it
    started (weights and the input are not counted). On CPU it comes from the allocation
    and free events of ``torch.profiler`` (``profile_memory=True``): exact requested sizes
    of every tensor the forward allocates, with no allocator rounding. On
    CUDA it is ``torch.cuda.max_memory_allocated()`` minus ``memory_allocated()`` before the
    call, which counts the caching allocator's blocks (rounded up to 512 bytes). Neither
    is the process's resident memory: it excludes the allocator's cached free blocks,
    library workspaces (cuFFT, cuBLAS, oneDNN) and Python objects.
``retained_bytes``
    Tensor memory still alive after the forward, above the start: with ``mode="train"``
    the tensors autograd keeps for the backward pass plus the output, which is what the
    estimate's ``activation_bytes`` predicts (or, with ``gradient_checkpointing``, each
    block's input: the estimate's checkpointed activations minus one recomputed block).

Modes: ``"train"`` runs ``model.train()`` with gradients enabled (dropout active, the
autograd graph built, checkpointing as the spec says); ``"inference"`` runs
``model.eval()`` under ``torch.inference_mode()``, where ``retained_bytes`` is the output.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from specdsl.estimate import Estimate, plan, training_memory
from specdsl.estimate.engine import check_count
from specdsl.schema.spec import Spec

MODES: tuple[str, ...] = ("train", "inference")
Step = Callable[[], None]


class Measurement(BaseModel):
    """Measured forward time and memory of a model at one input shape.

    Times are in seconds; memory in bytes (see the module docstring for their meaning).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int
    seq_len: int
    device: str
    mode: str
    forward_seconds: list[float] = Field(description="each timed forward, in order")
    peak_bytes: int = Field(description="most tensor bytes alive during one forward")
    retained_bytes: int = Field(description="tensor bytes still alive after the forward")
    memory_source: str = Field(description="how memory was measured")

    @property
    def median_seconds(self) -> float:
        """Median of the timed forwards."""
        return statistics.median(self.forward_seconds)


class ProfileRow(BaseModel):
    """One spec at one sequence length: the measurement beside its estimate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    batch_size: int
    seq_len: int
    device: str
    mode: str
    params: int = Field(description="parameters of the compiled model")
    forward_ms: float = Field(description="median forward time, milliseconds")
    forward_ms_min: float = Field(description="fastest forward, milliseconds")
    peak_bytes: int
    retained_bytes: int
    memory_source: str
    est_params: int
    est_flops: int
    est_activation_bytes: int = Field(
        description="estimated tensors kept for backward (checkpointed if the spec says so)"
    )
    achieved_flops_per_s: float = Field(description="est_flops / median forward time")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/``"auto"``: CUDA when available, else CPU; otherwise the named device.

    Raises ``ValueError`` for a name that is not a CPU or CUDA device and ``RuntimeError``
    for a CUDA device this machine does not have.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}") from None
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {str(device)!r} was asked for but CUDA is not available")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise RuntimeError(f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA devices")
    return resolved


def random_inputs(
    model: nn.Module, batch_size: int, seq_len: int, device: torch.device, seed: int = 0
) -> dict[str, Tensor]:
    """Random ``input_ids`` (a model with a vocabulary) or ``inputs_embeds`` (without)."""
    generator = torch.Generator().manual_seed(seed)
    vocab = getattr(model, "vocab_size", None)
    if vocab:
        ids = torch.randint(0, vocab, (batch_size, seq_len), generator=generator)
        return {"input_ids": ids.to(device)}
    hidden = int(getattr(model, "hidden_dim", 0))
    if hidden < 1:
        raise ValueError("the model needs vocab_size or hidden_dim to make random inputs")
    embeds = torch.randn(batch_size, seq_len, hidden, generator=generator)
    return {"inputs_embeds": embeds.to(device)}


@contextlib.contextmanager
def running(model: nn.Module, mode: str) -> Iterator[None]:
    """Put ``model`` in ``mode`` (train: grads on; inference: eval + inference_mode)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    was_training = model.training
    model.train(mode == "train")
    grad = torch.enable_grad() if mode == "train" else torch.inference_mode()
    try:
        with grad:
            yield
    finally:
        model.train(was_training)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_forward(
    model: nn.Module,
    inputs: dict[str, Tensor],
    repeats: int,
    warmup: int = 1,
    on_step: Step | None = None,
) -> list[float]:
    """Seconds of each of ``repeats`` forwards after ``warmup`` untimed ones.

    Runs in whatever mode the caller set (see :func:`running`); ``on_step`` is called after
    every forward, timed or not (a progress bar).
    """
    device = next(iter(inputs.values())).device
    times = []
    for index in range(warmup + repeats):
        _sync(device)
        start = time.perf_counter()
        out = model(**inputs)
        _sync(device)
        if index >= warmup:
            times.append(time.perf_counter() - start)
        del out
        if on_step is not None:
            on_step()
    return times


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 (C++ logging included) to the null device for a moment."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _cpu_memory(model: nn.Module, inputs: dict[str, Tensor]) -> tuple[int, int]:
    """``(peak, retained)`` bytes of one forward from the profiler's allocation events."""
    from torch.profiler import ProfilerActivity, profile

    prof = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
    with _quiet_stderr():  # kineto logs a line to fd 2 on start and on stop
        prof.start()
    try:
        out = model(**inputs)
    finally:
        with _quiet_stderr():
            prof.stop()
    results = getattr(prof.profiler, "kineto_results", None)
    if results is None:  # pragma: no cover - depends on the torch build
        raise RuntimeError("this torch build's profiler does not report memory events")
    events = sorted(
        (e for e in results.events() if e.name() == "[memory]" and e.device_type().name == "CPU"),
        key=lambda e: e.start_ns(),
    )
    live = list(itertools.accumulate((e.nbytes() for e in events), initial=0))
    del out
    return max(live), live[-1]


def _cuda_memory(
    model: nn.Module, inputs: dict[str, Tensor], device: torch.device
) -> tuple[int, int]:
    """``(peak, retained)`` bytes of one forward from the CUDA caching allocator's counters."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    out = model(**inputs)
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - before
    retained = torch.cuda.memory_allocated(device) - before
    del out
    return peak, retained


MEMORY_SOURCES = {
    "cpu": "torch.profiler allocation events (CPU tensors)",
    "cuda": "torch.cuda.max_memory_allocated",
}


def forward_memory(model: nn.Module, inputs: dict[str, Tensor]) -> tuple[int, int]:
    """``(peak_bytes, retained_bytes)`` of one forward, in the caller's mode."""
    device = next(iter(inputs.values())).device
    if device.type == "cuda":
        return _cuda_memory(model, inputs, device)
    return _cpu_memory(model, inputs)


def measure(
    model: nn.Module,
    batch_size: int,
    seq_len: int,
    repeats: int = 5,
    warmup: int = 1,
    mode: str = "train",
    device: str | torch.device | None = None,
    on_step: Step | None = None,
) -> Measurement:
    """Time ``repeats`` forwards of ``model`` on random input and measure one's memory.

    Parameters
    ----------
    model : nn.Module
        A compiled model (moved to ``device``).
    batch_size, seq_len : int
        Input shape (positive; ``seq_len`` at most the model's ``max_sequence_length``).
    repeats : int
        Timed forwards (positive).
    warmup : int
        Untimed forwards before them (0 or more).
    mode : {"train", "inference"}
        See the module docstring.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``/None (CUDA when available).
    on_step : callable, optional
        Called after each forward (``warmup + repeats + 1`` calls).

    Returns
    -------
    Measurement
    """
    check_count("batch_size", batch_size)
    check_count("seq_len", seq_len, getattr(model, "max_sequence_length", None))
    check_count("repeats", repeats)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    target = resolve_device(device)
    model.to(target)
    inputs = random_inputs(model, batch_size, seq_len, target)
    with running(model, mode):
        times = time_forward(model, inputs, repeats, warmup, on_step)
        peak, retained = forward_memory(model, inputs)
    if on_step is not None:
        on_step()
    return Measurement(
        batch_size=batch_size,
        seq_len=seq_len,
        device=str(target),
        mode=mode,
        forward_seconds=times,
        peak_bytes=peak,
        retained_bytes=retained,
        memory_source=MEMORY_SOURCES[target.type],
    )


def kept_activation_bytes(spec: Spec, estimate: Estimate, mode: str) -> int:
    """The estimate of what a forward in ``mode`` keeps for backward.

    ``activation_bytes``; with ``gradient_checkpointing`` in train mode, the checkpointed
    figure without its one recomputed block (the forward keeps only block inputs); 0 for
    inference, which keeps nothing for backward.
    """
    if mode == "inference":
        return 0
    if not spec.gradient_checkpointing:
        return estimate.activation_bytes
    memory = training_memory(plan(spec), estimate.batch_size, estimate.seq_len)
    return memory.activation_bytes_checkpointed - memory.recompute_bytes


def compare(spec: Spec, model: nn.Module, measurement: Measurement) -> ProfileRow:
    """The :class:`ProfileRow` of ``measurement`` beside ``spec``'s estimate at its shape."""
    from specdsl.estimate import estimate

    est = estimate(spec, measurement.batch_size, measurement.seq_len)
    median = measurement.median_seconds
    return ProfileRow(
        name=spec.name,
        batch_size=measurement.batch_size,
        seq_len=measurement.seq_len,
        device=measurement.device,
        mode=measurement.mode,
        params=sum(p.numel() for p in model.parameters()),
        forward_ms=median * 1e3,
        forward_ms_min=min(measurement.forward_seconds) * 1e3,
        peak_bytes=measurement.peak_bytes,
        retained_bytes=measurement.retained_bytes,
        memory_source=measurement.memory_source,
        est_params=est.params,
        est_flops=est.flops,
        est_activation_bytes=kept_activation_bytes(spec, est, measurement.mode),
        achieved_flops_per_s=est.flops / median if median > 0 else 0.0,
    )


def profile_spec(
    spec: Spec,
    seq_lens: list[int],
    batch_size: int = 1,
    repeats: int = 5,
    warmup: int = 1,
    mode: str = "train",
    device: str | torch.device | None = None,
    seed: int | None = None,
    on_step: Step | None = None,
) -> list[ProfileRow]:
    """Compile ``spec`` once and profile it at each length in ``seq_lens``.

    Arguments as in :func:`measure`; ``seed`` as in :func:`specdsl.compile`. Every length
    is checked before the model is built.
    """
    from specdsl.api import compile as compile_spec

    if not seq_lens:
        raise ValueError("seq_lens must list at least one sequence length")
    for n in seq_lens:
        check_count("seq_len", n, spec.max_sequence_length)
    model = compile_spec(spec, seed=seed)
    return [
        compare(spec, model, measure(model, batch_size, n, repeats, warmup, mode, device, on_step))
        for n in seq_lens
    ]


def steps_per_length(repeats: int, warmup: int) -> int:
    """Forwards :func:`measure` runs per length (for a progress bar's total)."""
    return warmup + repeats + 1


__all__ = [
    "MODES",
    "Measurement",
    "ProfileRow",
    "compare",
    "forward_memory",
    "kept_activation_bytes",
    "measure",
    "profile_spec",
    "random_inputs",
    "resolve_device",
    "running",
    "steps_per_length",
    "time_forward",
]
