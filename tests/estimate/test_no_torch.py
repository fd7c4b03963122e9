"""Estimating never imports torch, not even indirectly (checked in fresh interpreters)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HYBRID = str(ROOT / "architectures" / "hybrid.yaml")

API = f"""
import sys
import specdsl
from specdsl.guard import check_limits
from specdsl.estimate import plan, training_memory
from specdsl.estimate.compare import all_crossovers
from specdsl.estimate.report import SpecResult, as_csv, as_json, as_text
est = specdsl.estimate({HYBRID!r}, batch_size=2, seq_len=100)
check_limits(specdsl.parse({HYBRID!r}))
planned = plan({HYBRID!r})
training_memory(planned, 2, 100, memory_limit=10**10)
all_crossovers([("a", planned), ("b", plan({HYBRID!r}))])
as_text([SpecResult("a", [est])], []); as_csv([SpecResult("a", [est])])
assert est.params > 0
torch = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print("TORCH", torch)
"""


def test_estimate_api_never_imports_torch() -> None:
    done = subprocess.run([sys.executable, "-c", API], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "TORCH []" in done.stdout


def test_estimate_command_never_imports_torch() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "specdsl", "estimate", HYBRID,
         "--format", "json", "--seq-len", "128,256", "--train", "--memory", "8GB"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "specdsl.estimate.engine" in imported  # importtime output is really there
    assert not [m for m in imported if m == "torch" or m.startswith("torch.")]
