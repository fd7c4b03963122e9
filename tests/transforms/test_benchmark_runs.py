"""Smoke test: the transforms benchmark runs in --quick mode."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "transforms.py"


def test_quick_benchmark_runs():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "transform" in result.stdout and "dense/fast" in result.stdout
    assert "growth exponent" in result.stdout
