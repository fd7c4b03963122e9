"""How fast and small estimating is (issue 6, "speed and scale").

1. A 1,000-block spec of width 16384 (about 3e12 parameters; every block distinct, so
   nothing is shared between pattern items): parse and estimate time, Python memory at
   the estimate's peak (tracemalloc) and the peak RSS of a fresh process doing both.
   Targets: estimate under 1 s, peak memory under 300 MB.
2. ``python -m specdsl estimate architectures/hybrid.yaml`` as a whole process against
   ``python -c "import torch"``, timed interleaved (round after round, medians) on the
   same machine. Target: ratio under 0.5.

Usage: ``python benchmarks/estimate_speed.py [--rounds 5]`` (never imports torch itself).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import specdsl  # noqa: E402  (after the path set-up)

KINDS = (
    "attention(num_heads=16, ffn_hidden_dim={})",
    "fourier(ffn_hidden_dim={})",
    "lst(dct, num_heads=16, ffn_hidden_dim={})",
)


def big_spec_text(blocks: int = 1000, hidden: int = 16384) -> str:
    """``blocks`` distinct pattern items (their FFN widths differ) at width ``hidden``."""
    items = ", ".join(KINDS[i % len(KINDS)].format(4 * hidden + i) for i in range(blocks))
    return f'name: big\nhidden_dim: {hidden}\nmax_sequence_length: 8192\nlayers: "{items}"'


def scale(rounds: int) -> None:
    text = big_spec_text()
    start = time.perf_counter()
    spec = specdsl.parse(text)
    parse_s = time.perf_counter() - start
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        est = specdsl.estimate(spec)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    specdsl.estimate(spec)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    child = (
        "import resource, specdsl, sys; sys.path.insert(0, 'benchmarks');"
        "from estimate_speed import big_spec_text;"
        "specdsl.estimate(specdsl.parse(big_spec_text()));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    rss_kib = int(subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout)  # fmt: skip
    best = min(times)
    print(f"1,000-block spec, hidden 16384: {est.params:.3e} parameters, {est.num_blocks} blocks")
    median = statistics.median(times)
    print(f"  parse {parse_s:.3f} s; estimate best {best:.3f} s, median {median:.3f} s")
    print(f"  estimate peak Python memory {peak / 2**20:.1f} MiB (tracemalloc)")
    print(f"  whole process (parse + estimate) peak RSS {rss_kib / 1024:.1f} MiB")
    ok = best < 1.0 and rss_kib * 1024 < 300e6
    print(f"  target: estimate < 1 s and memory < 300 MB: {'PASS' if ok else 'FAIL'}")


def process_ratio(rounds: int) -> None:
    commands = {
        "specdsl estimate hybrid.yaml": [sys.executable, "-m", "specdsl", "estimate",
                                         "architectures/hybrid.yaml"],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    }  # fmt: skip
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds + 1):  # the first round warms the file cache, not counted
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
            seconds[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(runs[1:]) for name, runs in seconds.items()}
    estimate_s, torch_s = medians.values()
    for name, value in medians.items():
        print(f"  {name:32} median {value:.3f} s over {rounds} interleaved runs")
    ratio = estimate_s / torch_s
    verdict = "PASS" if ratio < 0.5 else "FAIL"
    print(f"  ratio estimate / import torch = {ratio:.2f} (target < 0.5): {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    scale(args.rounds)
    print("process time:")
    process_ratio(args.rounds)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this script's own peak RSS {own:.1f} MiB; torch imported: {'torch' in sys.modules})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
