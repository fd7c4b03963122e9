"""Timing helpers shared by the model benchmarks: interleaved medians and the GEMM rate.

On a shared machine the load changes from one second to the next. Every benchmark here
therefore times its candidates *interleaved* (one call of each, round after round) and
reports medians, so that a burst of load hits all candidates alike and ratios measured in
the same run stay meaningful even when the milliseconds do not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

# Let the scripts run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

Thunk = Callable[[], object]


@dataclass
class Timings:
    """Wall-clock seconds of every timed call, per candidate name."""

    seconds: dict[str, list[float]] = field(default_factory=dict)

    def median_ms(self, name: str) -> float:
        """Median of ``name``'s calls in milliseconds (NaN if it never ran)."""
        runs = self.seconds.get(name) or []
        return statistics.median(runs) * 1e3 if runs else float("nan")

    def runs(self, name: str) -> int:
        """How many timed calls ``name`` got."""
        return len(self.seconds.get(name) or [])


def time_interleaved(
    fns: dict[str, Thunk],
    repeats: int,
    warmup: int = 1,
    budget_s: float = float("inf"),
) -> Timings:
    """Time every thunk of ``fns`` round-robin over ``repeats`` rounds after ``warmup`` calls.

    Parameters
    ----------
    fns : dict of str to callable
        Candidates, each a no-argument callable doing one full call.
    repeats : int
        Rounds of timed calls (``>= 1``).
    warmup : int
        Untimed calls of each candidate first (caches, allocator, lazy constants).
    budget_s : float
        A candidate whose timed calls add up to more than this stops getting further
        rounds (it always gets at least one): slow candidates cannot stall a grid.

    Returns
    -------
    Timings
        Seconds per timed call of each candidate.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    if warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    timings = Timings({name: [] for name in fns})
    for _ in range(repeats):
        for name, fn in fns.items():
            spent = timings.seconds[name]
            if spent and sum(spent) > budget_s:
                continue
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return timings


@dataclass(frozen=True)
class Reference:
    """A timed reference beside the models: ``fn()`` does ``work`` units of it.

    The feed-forward GEMMs (:func:`ffn_gemms`, ``work`` in FLOPs) give the machine's
    arithmetic rate; a copy of one activation (:func:`activation_copy`, ``work`` in bytes
    read plus written) its memory rate. The norms, residuals and spectral passes of a
    model are bound by memory traffic, the matrix products by arithmetic, and on a shared
    machine the two vary separately.
    """

    fn: Thunk
    work: int

    def rate(self, timings: Timings, name: str) -> float:
        """``work`` per second from the median of ``name``'s timed calls."""
        return self.work / (timings.median_ms(name) / 1e3)


def ffn_gemms(rows: int, hidden_dim: int, ffn_dim: int, seed: int = 0) -> dict[str, Reference]:
    """The feed-forward products ``(rows x d) @ (d x f)`` then ``(rows x f) @ (f x d)``
    (no bias or activation; ``work`` their ``2 m n k`` FLOPs) on fresh random float32
    operands, once per GEMM kernel torch has here: ``mm`` (``F.linear``, MKL on x86) and,
    where the build has oneDNN, ``oneDNN`` (the kernel of :mod:`specdsl.library.fused`).
    The machine's rate is the faster of them, so a model is never credited for picking the
    faster library.
    """
    from specdsl.library.fused import onednn_linear_available

    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, hidden_dim, generator=generator)
    w1 = torch.randn(ffn_dim, hidden_dim, generator=generator)
    w2 = torch.randn(hidden_dim, ffn_dim, generator=generator)
    flops = 4 * rows * hidden_dim * ffn_dim

    def mm() -> torch.Tensor:
        return F.linear(F.linear(x, w1), w2)

    def onednn() -> torch.Tensor:
        linear = torch.ops.mkldnn._linear_pointwise
        return linear(linear(x, w1, None, "none", [], ""), w2, None, "none", [], "")

    gemms = {"mm": Reference(mm, flops)}
    if onednn_linear_available():
        gemms["oneDNN"] = Reference(onednn, flops)
    return gemms


def activation_copy(rows: int, hidden_dim: int, seed: int = 0) -> Reference:
    """A copy of a fresh random ``(rows, hidden_dim)`` float32 tensor (``work`` in bytes
    read plus written)."""
    x = torch.randn(rows, hidden_dim, generator=torch.Generator().manual_seed(seed))
    return Reference(x.clone, 2 * x.numel() * x.element_size())


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (right-aligned columns except the first), ready for a README."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(len(row))
        ]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i else ":" + "-" * (w + 1) for i, w in enumerate(widths)
    )
    return "\n".join([line(cells[0]), rule + "|", *(line(row) for row in cells[1:])])


def fmt_ms(ms: float) -> str:
    """Milliseconds with a precision that suits their size."""
    if ms != ms:  # NaN
        return "-"
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}"


def add_timing_options(parser: argparse.ArgumentParser, repeats: int, budget: float) -> None:
    """The options every timing script shares: ``--repeats`` (default ``repeats``),
    ``--warmup``, ``--budget`` (default ``budget`` seconds), ``--threads`` and ``--quick``
    (each script sets its own tiny sizes)."""
    parser.add_argument("--repeats", type=int, default=repeats, help="timed rounds per length")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--budget",
        type=float,
        default=budget,
        help="seconds of timed calls after which a candidate stops repeating",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")


def setup_torch(threads: int) -> None:
    """Fix the intra-op thread count and the default dtype (float32) for a benchmark."""
    if threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float32)


def reuse_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of returning it to the OS.

    By default every tensor above 32 MB is a fresh ``mmap`` whose pages fault in (and are
    zeroed by the kernel) on first touch, then ``munmap``-ed when freed; at these sizes
    that can double the time of a LayerNorm or GELU. ``M_MMAP_MAX = 0`` serves large
    blocks from the heap and ``M_TRIM_THRESHOLD`` keeps it, the effect of the caching
    allocators (jemalloc, tcmalloc) the PyTorch CPU tuning guide recommends. Returns
    whether it applied (False off glibc).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4
        return bool(libc.mallopt(m_mmap_max, 0) and libc.mallopt(m_trim_threshold, 2**31 - 1))
    except (OSError, AttributeError):
        return False


def machine_line(threads: int) -> str:
    """One line describing where the numbers come from."""
    import os
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        load = "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:
        load = "load n/a"
    return f"torch {torch.__version__}, {os.cpu_count()} CPUs ({cpu}), threads={threads}, {load}"


__all__ = [
    "Reference",
    "Timings",
    "activation_copy",
    "ffn_gemms",
    "fmt_ms",
    "format_table",
    "machine_line",
    "reuse_freed_memory",
    "setup_torch",
    "time_interleaved",
]
