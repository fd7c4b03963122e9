"""The model benchmarks run end to end at a tiny size, so the scripts cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_quick(script: str, *options: str) -> str:
    """Run ``benchmarks/<script> --quick [options]``; return its stdout after checking exit 0."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *options],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_models_benchmark_quick_prints_every_family() -> None:
    out = run_quick("models.py")
    header = "| family | n | forward ms | runs | matmul GFLOP | ratio | goal met |"
    assert header in " ".join(out.split()), out[:2000]
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from models import FAMILIES
    finally:
        sys.path.remove(str(BENCHMARKS))
    lines = out.splitlines()
    for family in [*FAMILIES, "floor"]:
        rows = [line for line in lines if line.startswith(f"| {family} ")]
        assert len(rows) == 3, f"{family}: {rows}"  # n=16, n=32 and the summary
    assert "| (GEMM mm) |" in " ".join(out.split()) and "Skipped (memory): none" in out
    copies = [line for line in lines if line.startswith("| (copy B n x D)")]
    assert len(copies) == 2 and all(line.split("|")[6].strip().endswith("GB/s") for line in copies)


def test_models_benchmark_pools_fresh_processes() -> None:
    out = run_quick("models.py", "--processes", "2", "--families", "fnet", "floor")
    assert "in each of 2 fresh processes" in out
    assert "| ratio range |" in " ".join(out.split())
    for family in ("fnet", "floor"):
        rows = [line.split("|") for line in out.splitlines() if line.startswith(f"| {family} ")]
        assert len(rows) == 3  # n=16, n=32 and the summary
        for cells in rows[:2]:
            assert int(cells[4]) == 2  # one timed round in each process
            low, high = (float(v) for v in cells[10].split("-"))
            assert low <= float(cells[6]) <= high  # the median ratio lies in the range
    usage = subprocess.run(
        [sys.executable, str(BENCHMARKS / "models.py"), "--processes", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert usage.returncode == 2 and "--processes must be at least 1" in usage.stderr


def test_naive_benchmark_quick_agrees_with_every_fast_path() -> None:
    out = run_quick("naive.py")
    assert "| layer" in out and "naive / fast" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "| 32 |" in line]
    assert len(rows) == 9
    assert all("**no** |" not in row.split("|")[7] for row in rows)  # errors within 1e-4


def test_handwritten_benchmark_quick_agrees_with_the_compiled_models() -> None:
    out = run_quick("handwritten.py")
    assert "| family | n | compiled ms | hand-written ms | speed-up |" in " ".join(out.split())
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from handwritten import MIXERS
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert {"fnet", "gfnet", "afno", "lst-dct", "lst-mixed", "floor"} <= set(MIXERS)
    for family in MIXERS:
        rows = [line for line in out.splitlines() if line.startswith(f"| {family} ")]
        assert len(rows) == 2, f"{family}: {rows}"  # n = 16 and 32
        assert all(row.rstrip(" |").endswith("yes") for row in rows)  # outputs within 1e-4
        assert all(float(row.split("|")[5].strip().rstrip("x")) > 0 for row in rows)


@pytest.mark.parametrize("script", ["models.py", "naive.py", "handwritten.py"])
def test_bad_arguments_are_usage_errors(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--threads", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "--threads" in result.stderr


def test_complexity_benchmark_prints_a_verdict_per_layer() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "complexity.py"),
            "--layers",
            "fourier,performer",
            "--min-n",
            "16",
            "--max-n",
            "64",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    rows = result.stdout.splitlines()[1:-1]
    names = ["fourier ", "performer(num_heads=4) ", "performer(num_heads=4, causal=true) "]
    assert [row.startswith(name) for row, name in zip(rows, names, strict=True)] == [True] * 3
    assert [row.split()[-2] for row in rows] == ["16-64"] * 3  # lengths of each fitted slope
    assert result.stdout.splitlines()[-1].endswith("mismatches")
    assert result.returncode in (0, 1)  # 1: a tiny-size slope fell outside its band
