"""Compiled models of every family against the machine's matrix-product rate.

For each family the script compiles ``repeat BLOCKS [layer]`` through the DSL (the
compiled model is what is measured), at every sequence length, and times its forward
pass (float32, ``torch.no_grad()``), interleaved round-robin with a matrix product of the
model's own feed-forward shape, ``(B n x D) @ (D x F)`` then ``(B n x F) @ (F x D)``:

    efficiency ratio = forward time / (matmul_flops / GEMM rate)

``matmul_flops`` is the estimate's (``specdsl.estimate``: projections, feed-forward and any
matrix products the layer's own algorithm runs), the GEMM rate the FLOP/s of that
product measured in the same rounds, with each GEMM kernel torch offers here (``mm``, and
oneDNN where the build has it: the kernel the compiled feed-forward uses in inference), the
faster of them counting. A ratio of 1 means the model runs as fast as its
matrix products alone; what is above 1 is everything else: the mixing, norms, GELU,
residual adds. The row ``floor`` is the same stack with every mixer removed (norms,
feed-forward and residuals only): no model can go below it. ``mixing share`` is what the
mixer alone adds beyond its matrix products, relative to the model's matmul time (see
:meth:`SizeRun.mixing_share`). The row ``(copy B n x D)`` is a copy of one activation timed in the
same rounds: the machine's memory rate during the run, which moves the ratios (the
non-GEMM work is memory-bound) independently of the GEMM rate. Forward plus backward is
timed at the smallest length. With ``--processes K`` every length is measured in ``K``
fresh processes in turn and the table gives the medians over them (and the ratio's range):
a model's time can move from one process to the next, which interleaving cannot remove.

Usage::

    python benchmarks/models.py                     # n = 512, 2048, 8192 (minutes)
    python benchmarks/models.py --sizes 512 --families lst-dct performer
    python benchmarks/models.py --sizes 8192 --processes 3 --train-repeats 0
    python benchmarks/models.py --quick             # tiny smoke run (seconds)
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import torch
from common import (
    Timings,
    activation_copy,
    add_timing_options,
    ffn_gemms,
    fmt_ms,
    format_table,
    machine_line,
    reuse_freed_memory,
    setup_torch,
    time_interleaved,
)
from torch import Tensor, nn

import specdsl

#: family -> the layers of one repeat (one layer each; ``hybrid`` alternates two).
FAMILIES: dict[str, str] = {
    "fnet": "fourier",
    "gfnet": "global_filter",
    "afno": "afno",
    "wavelet": "wavelet",
    "fno": "fno",
    "lst-dct": "lst(dct)",
    "lst-dst": "lst(dst)",
    "lst-hadamard": "lst(hadamard)",
    "lst-mixed": "lst(mixed)",
    "spectral-attention": "spectral_attention",
    "performer": "performer",
    "kernel-attention": "kernel_attention",
    "attention": "attention",
    "hybrid": "fourier, attention",
}
#: Families held to the efficiency goals (the others contain O(n^2) softmax attention).
NOT_SPECTRAL = ("attention", "hybrid")
FLOOR = "floor"
#: The memory probe timed in the same rounds (:func:`common.activation_copy`).
COPY = "(copy B n x D)"
GOALS = {"small": 2.0, "large": 1.5}  # ratio at the smallest / largest length


class NoMixer(nn.Module):
    """A token mixer that returns its input: the ``floor`` model keeps only the blocks."""

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return x


@dataclass
class Case:
    """One compiled model at one length, with its input and estimate."""

    name: str
    model: nn.Module
    matmul_flops: int
    x: Tensor

    def forward(self) -> Tensor:
        return self.model(inputs_embeds=self.x)

    def training_step(self) -> None:
        self.model.zero_grad(set_to_none=True)
        self.forward().square().mean().backward()


def spec_text(pattern: str, args: argparse.Namespace, n: int) -> str:
    """The spec of one family: ``BLOCKS`` blocks at width ``D``, inputs of length ``n``."""
    per_repeat = pattern.count(",") + 1
    return (
        f"name: bench\nhidden_dim: {args.hidden}\nmax_sequence_length: {n}\n"
        f"layers: repeat {args.blocks // per_repeat} [{pattern}]"
    )


def build_case(name: str, args: argparse.Namespace, n: int, x: Tensor) -> Case:
    """Compile the family ``name`` (or the floor) for length ``n``."""
    pattern = FAMILIES["fnet" if name == FLOOR else name]
    spec = specdsl.parse(spec_text(pattern, args, n))
    model = specdsl.compile(spec, seed=0).eval()
    flops = specdsl.estimate(spec, batch_size=args.batch, seq_len=n).matmul_flops
    if name == FLOOR:
        for block in model.blocks:
            block.mixer = NoMixer()
    return Case(name, model, flops, x)


def memory_need(name: str, args: argparse.Namespace, n: int) -> int:
    """Bytes a forward needs at most: parameters plus the estimate's training activations
    (an upper bound of inference; softmax attention runs blockwise, no ``n x n`` matrix)."""
    pattern = FAMILIES["fnet" if name == FLOOR else name]
    estimate = specdsl.estimate(spec_text(pattern, args, n), batch_size=args.batch, seq_len=n)
    return estimate.param_bytes + estimate.activation_bytes


def available_memory() -> int:
    """Bytes of memory the OS reports available (``MemAvailable``), or a large number."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


def ratio_mark(name: str, ratio: float, goal: float | None) -> str:
    if name in NOT_SPECTRAL or name == FLOOR or goal is None:
        return "-"
    return "yes" if ratio <= goal else "**no**"


def goal_for(n: int, sizes: list[int]) -> float | None:
    """The ratio goal at ``n``: the strict one at the largest length, else the loose one."""
    if n == max(sizes):
        return GOALS["large"]
    return GOALS["small"] if n == min(sizes) else None


@dataclass
class Measured:
    """One timed row in one process: median ``ms`` over ``runs`` calls doing ``work``
    (matmul FLOPs of a model or a GEMM, bytes of the copy)."""

    ms: float
    runs: int
    work: float
    train_ms: float = float("nan")

    @property
    def rate(self) -> float:
        """``work`` per second."""
        return self.work / (self.ms / 1e3)


@dataclass
class SizeRun:
    """What one process measured at one length: the models, the GEMMs and the copy."""

    models: dict[str, Measured]
    gemms: dict[str, Measured]
    copy: Measured
    skipped: dict[str, str]

    @property
    def gemm_rate(self) -> float:
        """The machine's GEMM rate in this process: the faster kernel's FLOP/s."""
        return max(gemm.rate for gemm in self.gemms.values())

    def ratio(self, name: str) -> float:
        """Forward time over the model's matmul time at the GEMM rate."""
        model = self.models[name]
        return model.ms / 1e3 / (model.work / self.gemm_rate)

    def mixing_share(self, name: str) -> float | None:
        """What the mixer adds beyond its matrix products, over the model's matmul time.

        ``(t - t_floor - (F - F_floor) / rate) / (F / rate)``: the floor (the same blocks
        without a mixer) removes norms, GELU and residuals, and the mixer's own matrix
        products (projections) are charged at the GEMM rate. The issue's "the mixing adds
        at most half of the unavoidable matrix-product time" is this share <= 0.5.
        """
        floor = self.models.get(FLOOR)
        if floor is None or name == FLOOR:
            return None
        model, rate = self.models[name], self.gemm_rate
        extra_s = (model.ms - floor.ms) / 1e3 - (model.work - floor.work) / rate
        return extra_s / (model.work / rate)


def measure_size(n: int, names: list[str], args: argparse.Namespace, train: bool) -> SizeRun:
    """Time every family at length ``n`` in this process (forward + backward too when
    ``train``)."""
    x = torch.randn(args.batch, n, args.hidden, generator=torch.Generator().manual_seed(n))
    cases, skipped = {}, {}
    for name in names:
        need = memory_need(name, args, n)
        if need > args.memory_fraction * available_memory():
            skipped[f"{name} n={n}"] = f"needs ~{need / 2**30:.1f} GiB"
            continue
        cases[name] = build_case(name, args, n, x)
    gemms = {
        f"(GEMM {kernel})": g
        for kernel, g in ffn_gemms(args.batch * n, args.hidden, 4 * args.hidden).items()
    }
    copy = activation_copy(args.batch * n, args.hidden)
    fns: dict[str, Callable[[], object]] = {name: case.forward for name, case in cases.items()}
    fns.update((name, gemm.fn) for name, gemm in gemms.items())
    fns[COPY] = copy.fn
    with torch.no_grad():
        timings = time_interleaved(fns, args.repeats, args.warmup, args.budget)
    train_timings = time_training(cases, args) if train and args.train_repeats else Timings()

    def measured(name: str, work: float) -> Measured:
        return Measured(timings.median_ms(name), timings.runs(name), work)

    models = {name: measured(name, case.matmul_flops) for name, case in cases.items()}
    for name, model in models.items():
        model.train_ms = train_timings.median_ms(name)
    return SizeRun(
        models=models,
        gemms={name: measured(name, gemm.work) for name, gemm in gemms.items()},
        copy=measured(COPY, copy.work),
        skipped=skipped,
    )


def prepare_process(args: argparse.Namespace) -> bool:
    """Set torch's threads and, unless ``--stock-malloc``, glibc's memory reuse in this
    process; returns whether freed memory is reused."""
    setup_torch(args.threads)
    return not args.stock_malloc and reuse_freed_memory()


def measure_fresh(n: int, names: list[str], args: argparse.Namespace, train: bool) -> SizeRun:
    """:func:`measure_size` in a process of its own, set up as the main one."""
    prepare_process(args)
    return measure_size(n, names, args, train)


def measure(n: int, names: list[str], args: argparse.Namespace) -> list[SizeRun]:
    """One :class:`SizeRun` per process: this one, or ``--processes`` fresh ones in turn.

    A model's time can move by 10-20 % from one process to the next while the other
    models of the same rounds do not (where the heap placed its tensors, see
    ``benchmarks/README.md``); interleaving cannot remove that, fresh processes can.
    Forward + backward is timed in the first process only (at the smallest length).
    """
    train = n == min(args.sizes)
    if args.processes == 1:
        return [measure_size(n, names, args, train)]
    context = multiprocessing.get_context("spawn")  # a new interpreter: a fresh heap
    runs = []
    for index in range(args.processes):
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            runs.append(pool.submit(measure_fresh, n, names, args, train and index == 0).result())
    return runs


def median(values: list[float]) -> float:
    """Median of the finite ``values`` (NaN if none)."""
    finite = [v for v in values if v == v]
    return statistics.median(finite) if finite else float("nan")


def size_rows(n: int, runs: list[SizeRun], args: argparse.Namespace) -> list[list[object]]:
    """Table rows at length ``n``: per model, the medians over processes of its forward
    time, ratio and mixing share (with the ratio's range when there are several)."""
    goal = goal_for(n, args.sizes)
    several = len(runs) > 1

    def spread(values: list[float]) -> list[object]:
        return [f"{min(values):.2f}-{max(values):.2f}"] if several else []

    rows: list[list[object]] = []
    for name in runs[0].models:
        ratios = [run.ratio(name) for run in runs]
        ratio = median(ratios)
        shares = [run.mixing_share(name) for run in runs]
        share = median([s for s in shares if s is not None]) if shares[0] is not None else None
        row: list[object] = [
            name,
            n,
            fmt_ms(median([run.models[name].ms for run in runs])),
            sum(run.models[name].runs for run in runs),
            f"{runs[0].models[name].work / 1e9:.2f}",
            f"{ratio:.2f}",
            ratio_mark(name, ratio, goal),
            "-" if share is None else f"{share:.2f}",
            fmt_ms(runs[0].models[name].train_ms),
        ]
        rows.append(row + spread(ratios))
    blank = ["", "", ""] + [""] * several
    for name in runs[0].gemms:
        rates = [run.gemms[name].rate for run in runs]
        rows.append(
            [
                name,
                n,
                fmt_ms(median([run.gemms[name].ms for run in runs])),
                sum(run.gemms[name].runs for run in runs),
                f"{runs[0].gemms[name].work / 1e9:.2f}",
                f"{median(rates) / 1e9:.0f} GFLOP/s",
                *blank,
            ]
        )
    copy_rate = median([run.copy.rate for run in runs])
    copy_ms = fmt_ms(median([run.copy.ms for run in runs]))
    copy_runs = sum(run.copy.runs for run in runs)
    rows.append([COPY, n, copy_ms, copy_runs, "", f"{copy_rate / 1e9:.1f} GB/s", *blank])
    return rows


def time_training(cases: dict[str, Case], args: argparse.Namespace) -> Timings:
    """Forward plus backward of every case (train mode; dropout is 0 in these specs)."""
    for case in cases.values():
        case.model.train()
    fns = {name: case.training_step for name, case in cases.items()}
    timings = time_interleaved(fns, args.train_repeats, args.warmup, args.budget)
    for case in cases.values():
        case.model.eval()
    return timings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 2048, 8192])
    p.add_argument("--families", nargs="+", default=[*FAMILIES, FLOOR], choices=[*FAMILIES, FLOOR])
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--blocks", type=int, default=4)
    p.add_argument("--batch", type=int, default=8)
    add_timing_options(p, repeats=5, budget=30.0)
    p.add_argument(
        "--train-repeats", type=int, default=3, help="forward+backward rounds (0: not timed)"
    )
    p.add_argument(
        "--memory-fraction",
        type=float,
        default=0.9,
        help="skip a model whose estimated training memory exceeds this share of free RAM",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="measure every length in this many fresh processes; report medians over them",
    )
    p.add_argument(
        "--stock-malloc",
        action="store_true",
        help="leave glibc returning large blocks to the OS (see common.reuse_freed_memory)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.hidden, args.blocks, args.batch = [16, 32], 32, 2, 2
        args.repeats = args.train_repeats = args.threads = 1
    if args.blocks % 2:
        p.error("--blocks must be even (the hybrid family alternates two layers)")
    if args.processes < 1:
        p.error("--processes must be at least 1")
    return args


def goal_sizes(sizes: list[int]) -> list[int]:
    """The lengths a goal applies to: the smallest and the largest (once if equal)."""
    return sorted({min(sizes), max(sizes)})


def summary(rows: list[list[object]], sizes: list[int]) -> list[list[object]]:
    """One row per family: the ratio at every length and whether the goals are met."""
    ratios: dict[str, dict[int, str]] = {}
    for row in rows:
        if not str(row[0]).startswith("("):
            ratios.setdefault(str(row[0]), {})[int(row[1])] = str(row[5])
    out = []
    for name, by_n in ratios.items():
        marks = [
            ratio_mark(name, float(by_n[n]), goal_for(n, sizes)) if n in by_n else "skipped"
            for n in goal_sizes(sizes)
        ]
        out.append([name, *(by_n.get(n, "skipped") for n in sizes), *marks])
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reuse = prepare_process(args)
    names = list(dict.fromkeys(args.families))
    print(f"{machine_line(args.threads)}, freed memory reused: {'yes' if reuse else 'no'}")
    print(
        f"hidden_dim={args.hidden} blocks={args.blocks} batch={args.batch} float32 no_grad; "
        f"median of {args.repeats} interleaved rounds after {args.warmup} warm-up"
        + (f", in each of {args.processes} fresh processes" if args.processes > 1 else "")
        + "; ratio = forward / (matmul_flops / GEMM rate)"
    )
    skipped: dict[str, str] = {}
    rows: list[list[object]] = []
    headers = [
        "family",
        "n",
        "forward ms",
        "runs",
        "matmul GFLOP",
        "ratio",
        "goal met",
        "mixing share",
        f"fwd+bwd ms (n={min(args.sizes)})",
        *(["ratio range"] if args.processes > 1 else []),
    ]
    for n in args.sizes:
        runs = measure(n, names, args)
        for run in runs:
            skipped.update(run.skipped)
        table = size_rows(n, runs, args)
        print()
        print(format_table(headers, table), flush=True)
        rows.extend(table)
    print()
    goals = [f"<= {goal_for(n, args.sizes)} at {n}" for n in goal_sizes(args.sizes)]
    print(f"Summary (ratio per length; goals for the spectral families: {', '.join(goals)}):")
    print(
        format_table(["family", *(f"n={n}" for n in args.sizes), *goals], summary(rows, args.sizes))
    )
    print()
    if skipped:
        print("Skipped (memory): " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    else:
        print(
            f"Skipped (memory): none (every model fits in {args.memory_fraction:.0%} "
            f"of the free memory)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["FAMILIES", "main"]
