"""Measured growth in sequence length vs each layer's declared complexity class.

For every registered token mixer (and its ``causal=true`` variant where it has one), build
a one-block model (width 32, no head, no positional encoding), time its forward for
``n = 256 .. 8192`` and fit the slope of log(seconds per sequence) against log(n), over all
lengths and over the three largest. Every call holds the same number of tokens (a batch of
``8192 // n`` sequences), so fixed per-call overheads weigh alike at every length instead
of flattening the short end; each figure is the fastest of a few runs (load on a shared
machine only ever slows a run down), on one thread, without grad. The slope is judged
against the class the cost formula declares:

- ``O(n)``: slope 0.8 to 1.2; ``O(n log n)``: 0.9 to 1.3; ``O(n log^2 n)``: 0.9 to 1.5;
- ``O(n^2)``: slope above 1.6 over the three largest lengths (at small n the linear
  parts still dominate).

Lengths whose estimated activation memory exceeds ``--max-gib`` are skipped (the
estimate says so before anything is built). Usage::

    python benchmarks/complexity.py [--layers fourier,attention] [--max-n 8192]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import common  # noqa: F401  (puts the checkout on sys.path, as for the other scripts)
import torch

import specdsl
from specdsl.library import REGISTRY

BOUNDS = {"O(n)": (0.8, 1.2), "O(n log n)": (0.9, 1.3), "O(n log^2 n)": (0.9, 1.5)}
QUADRATIC_MIN = 1.6


def slope(lengths: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) against log(n)."""
    xs = [math.log(n) for n in lengths]
    ys = [math.log(s) for s in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def variants(names: list[str] | None) -> list[str]:
    """Each mixer with default arguments (4 heads), and causal where it can be."""
    out = []
    for name, entry in sorted(REGISTRY.items()):
        if entry.kind != "mixer" or (names and name not in names):
            continue
        fields = entry.config.model_fields
        args = ["num_heads=4"] if "num_heads" in fields else []
        out.append(f"{name}({', '.join(args)})" if args else name)
        if "causal" in fields:
            out.append(f"{name}({', '.join([*args, 'causal=true'])})")
    return out


def time_forward(model: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    """Fastest of ``repeats`` no-grad forwards after one warm-up (caches, allocator)."""
    with torch.no_grad():
        model(inputs_embeds=x)
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(inputs_embeds=x)
            runs.append(time.perf_counter() - start)
    return min(runs)


def measure(
    layer: str, lengths: list[int], hidden: int, repeats: int, max_bytes: float, max_seconds: float
):
    """Declared class, and seconds per sequence at each length that fits in memory (longer
    lengths are skipped once one forward takes more than ``max_seconds``)."""
    spec = specdsl.parse(
        f"hidden_dim: {hidden}\nmax_sequence_length: {max(lengths)}\n"
        f'positional_encoding: none\nlayers: "{layer}"'
    )
    model = specdsl.compile(spec).eval()
    declared = specdsl.estimate(spec).layers[0].complexity
    done, seconds = [], []
    for n in lengths:
        batch = max(1, max(lengths) // n)
        if specdsl.estimate(spec, batch_size=batch, seq_len=n).activation_bytes > max_bytes:
            break
        try:
            x = torch.randn(batch, n, hidden)
            call = time_forward(model, x, repeats)
        except RuntimeError as err:  # out of memory: the live working set exceeds the machine
            print(f"  {layer}: stopped at n={n}: {str(err).splitlines()[0][:90]}", flush=True)
            break
        seconds.append(call / batch)
        done.append(n)
        if call > max_seconds:
            break
    return declared, done, seconds


def verdict(declared: str, lengths: list[int], seconds: list[float]) -> tuple[float, float, str]:
    if len(lengths) < 3:
        return math.nan, math.nan, "too few lengths"
    overall = slope(lengths, seconds)
    large = slope(lengths[-3:], seconds[-3:])
    if declared == "O(n^2)":
        return overall, large, "ok" if large > QUADRATIC_MIN else "MISMATCH"
    low, high = BOUNDS.get(declared, (-math.inf, math.inf))
    return overall, large, "ok" if low <= overall <= high else "MISMATCH"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", default=None, help="comma-separated layer names (default all)")
    parser.add_argument("--min-n", type=int, default=256)
    parser.add_argument("--max-n", type=int, default=8192)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-gib", type=float, default=4.0, help="skip larger activations")
    parser.add_argument(
        "--max-seconds", type=float, default=2.0, help="stop a layer after a slower forward"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # stable timings on a shared machine
    lengths = [n for n in (2**k for k in range(4, 20)) if args.min_n <= n <= args.max_n]
    names = args.layers.split(",") if args.layers else None
    print(f"{'layer':44} {'declared':>11} {'slope':>6} {'large-n':>8}  lengths  verdict")
    failures = 0
    for layer in variants(names):
        declared, done, seconds = measure(
            layer, lengths, args.hidden, args.repeats, args.max_gib * 2**30, args.max_seconds
        )
        overall, large, word = verdict(declared, done, seconds)
        failures += word == "MISMATCH"
        span = f"{done[0]}-{done[-1]}" if done else "-"
        print(
            f"{layer:44} {declared:>11} {overall:6.2f} {large:8.2f}  {span:>9}  {word}", flush=True
        )
    print(f"{failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
