"""Benchmark the fast transforms of ``specdsl.transforms`` against dense matrices.

For each size ``n`` the script times, on a ``(batch, channels, n)`` float32
tensor, every fast transform, the dense-matrix product implementing the same
linear map (matrix built once, outside the timing; skipped when the matrix would
exceed ``--dense-max-bytes``) and ``torch.fft.rfft`` of the same size. It then
fits the growth exponent ``d log(time per vector) / d log(n)`` of each fast
transform and checks it against ``--max-exponent``. The table shows medians; the
fit uses the fastest repeat of each size, the estimate least disturbed by other
processes on a shared machine.

``--batch B C`` is the batch at the smallest size; by default the channel count
shrinks as ``n`` grows (``C * n_min / n``, at least 1), so every call touches
the same amount of memory. Otherwise the largest sizes would run from DRAM and
the smallest from cache, and that hierarchy effect (visible on ``torch.fft.rfft``
itself) would dominate the fitted exponent. ``--fixed-batch`` keeps ``(B, C)``.

Usage::

    python benchmarks/transforms.py            # n = 256 ... 16384
    python benchmarks/transforms.py --quick    # tiny smoke run (seconds)
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import specdsl.transforms as T

Fn = Callable[[torch.Tensor], torch.Tensor]


def _dwt_db4(x: torch.Tensor) -> torch.Tensor:
    ca, cd = T.dwt(x, "db4", "symmetric")
    return torch.cat((ca, cd), -1)


def _mdct(x: torch.Tensor) -> torch.Tensor:
    return T.mdct(x, x.shape[-1])


# name -> fast function; each is linear, so its dense matrix is fn(I)^T.
TRANSFORMS: dict[str, Fn] = {
    "dct": T.dct,
    "dst": T.dst,
    "fwht": T.fwht,
    "dwt db4": _dwt_db4,
    "mdct (2N=n)": _mdct,
}


def dense_operator(fn: Fn, n: int, dtype: torch.dtype) -> Fn:
    """Dense equivalent of ``fn``: its matrix (built once) applied by one matmul."""
    with torch.no_grad():
        matrix = fn(torch.eye(n, dtype=torch.float64)).reshape(n, -1).to(dtype)
    return lambda x: x.reshape(*x.shape[:-1], n) @ matrix


def time_interleaved(
    fns: dict[str, Fn], x: torch.Tensor, repeats: int, budget_s: float
) -> dict[str, list[float]]:
    """Wall times of every ``fns[k](x)``, interleaved round-robin over ``repeats`` rounds.

    Interleaving spreads load fluctuations of a shared machine over all
    candidates. A candidate whose accumulated time exceeds ``budget_s`` stops
    after the round in which it crossed it (slow dense products run once or twice).
    """
    for fn in fns.values():
        fn(x[:1, :1])  # warm-up on one row: builds the cached constants for this n
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if times[name] and sum(times[name]) > budget_s:
                continue
            t0 = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - t0)
    return times


def slope(sizes: list[int], times: list[float]) -> float:
    """Least-squares slope of ``log(time)`` against ``log(n)``."""
    lx = [math.log(s) for s in sizes]
    ly = [math.log(t) for t in times]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    return num / sum((a - mx) ** 2 for a in lx)


def _batch_for(args: argparse.Namespace, n: int) -> tuple[int, int]:
    """Batch shape at size ``n`` (see the module docstring)."""
    b, c = args.batch
    return (b, c) if args.fixed_batch else (b, max(1, c * args.sizes[0] // n))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256 << i for i in range(7)])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--batch", type=int, nargs=2, default=[8, 256], metavar=("B", "C"))
    p.add_argument("--fixed-batch", action="store_true", help="same (B, C) at every size")
    p.add_argument("--dense-max-bytes", type=float, default=1e9)
    p.add_argument("--budget", type=float, default=3.0, help="seconds per candidate and size")
    p.add_argument("--max-exponent", type=float, default=1.3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats, args.batch, args.threads = [16, 32, 64], 1, [2, 4], 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    dtype = torch.float32
    itemsize = torch.finfo(dtype).bits // 8
    scaling = "fixed" if args.fixed_batch else f"channels x {args.sizes[0]}/n"
    print(
        f"batch={tuple(args.batch)} ({scaling}) dtype=float32 threads={args.threads} "
        f"repeats={args.repeats}; median (and min) ms per call; ratios of medians"
    )
    header = (
        f"{'n':>6} {'batch':>9} {'transform':<12} {'fast':>9} {'(min)':>8} {'dense':>10} "
        f"{'dense/fast':>10} {'rfft':>8} {'rfft/fast':>9}"
    )
    print(header)
    print("-" * len(header))
    best: dict[str, list[float]] = {name: [] for name in ["rfft", *TRANSFORMS]}
    for n in args.sizes:
        batch = _batch_for(args, n)
        x = torch.randn(*batch, n, dtype=dtype)
        fns: dict[str, Fn] = {"rfft": torch.fft.rfft, **TRANSFORMS}
        for name, fn in TRANSFORMS.items():
            out_len = fn(x[:1, :1]).numel()
            if n * out_len * itemsize <= args.dense_max_bytes:
                fns[f"{name}/dense"] = dense_operator(fn, n, dtype)
        times = time_interleaved(fns, x, args.repeats, args.budget)
        rows = math.prod(batch)
        t_rfft = statistics.median(times["rfft"])
        best["rfft"].append(min(times["rfft"]) / rows)
        for name in TRANSFORMS:
            t_fast = statistics.median(times[name])
            best[name].append(min(times[name]) / rows)
            dense = times.get(f"{name}/dense")
            if dense:
                t_dense = statistics.median(dense)
                dense_s, ratio_s = f"{t_dense * 1e3:10.2f}", f"{t_dense / t_fast:9.2f}x"
            else:
                dense_s, ratio_s = f"{'skipped*':>10}", f"{'-':>10}"
            print(
                f"{n:>6} {'x'.join(map(str, batch)):>9} {name:<12} {t_fast * 1e3:9.2f} "
                f"{min(times[name]) * 1e3:8.2f} "
                f"{dense_s} {ratio_s} "
                f"{t_rfft * 1e3:8.2f} {t_rfft / t_fast:8.2f}x",
                flush=True,
            )
    print(f"* dense skipped where the matrix would exceed {args.dense_max_bytes / 1e9:g} GB")
    print()
    print(
        f"growth exponent (log-log slope of the min time per vector vs n, "
        f"sizes {args.sizes[0]}..{args.sizes[-1]}):"
    )
    failed = False
    for name, series in best.items():
        k = slope(args.sizes, series)
        if name == "rfft":
            print(f"  {name:<12} {k:5.2f}  (reference)")
            continue
        ok = k <= args.max_exponent
        failed |= not ok
        print(f"  {name:<12} {k:5.2f}  {'PASS' if ok else 'FAIL'} (<= {args.max_exponent})")
    return 0 if args.quick or not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
