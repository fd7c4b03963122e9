"""``specdsl profile`` and :mod:`specdsl.profiling`: exact memory on known forwards, the
estimate beside the measurement, the CLI's output, progress and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

import specdsl
from specdsl.cli import main
from specdsl.profiling import (
    compare,
    kept_activation_bytes,
    measure,
    profile_spec,
    resolve_device,
    steps_per_length,
)

B, N, D = 2, 16, 8
BYTES = B * N * D * 4  # one float32 (B, N, D) tensor
SPEC = """
name: tiny
vocab_size: 50
hidden_dim: 16
max_sequence_length: 32
head: {type: classification, num_classes: 3}
layers: "repeat 2 [fourier]"
"""


class Sine(nn.Module):
    """``sin(x * w)``: one temporary, and ``sin`` keeps its input for backward."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden_dim = D
        self.max_sequence_length = N
        self.w = nn.Parameter(torch.tensor(2.0))

    def forward(self, inputs_embeds: Tensor) -> Tensor:
        return torch.sin(inputs_embeds * self.w)


@pytest.mark.parametrize(("mode", "kept"), [("inference", 1), ("train", 2)])
def test_cpu_memory_is_exact_on_a_known_forward(mode: str, kept: int) -> None:
    # the product (1 tensor) then sin (a 2nd); inference frees the product, train keeps it
    result = measure(Sine(), B, N, repeats=2, warmup=1, mode=mode, device="cpu")
    assert result.peak_bytes == 2 * BYTES
    assert result.retained_bytes == kept * BYTES
    assert len(result.forward_seconds) == 2
    assert all(t > 0 for t in result.forward_seconds)
    assert result.device == "cpu" and result.mode == mode


def test_measure_restores_the_model_mode() -> None:
    model = Sine().eval()
    measure(model, B, N, repeats=1, mode="train", device="cpu")
    assert not model.training


def test_kept_memory_matches_the_estimate() -> None:
    spec = specdsl.parse(SPEC)
    model = specdsl.compile(spec, seed=0)
    row = compare(spec, model, measure(model, 2, 32, repeats=1, warmup=0, device="cpu"))
    assert row.params == row.est_params
    assert row.est_activation_bytes == specdsl.estimate(spec, 2, 32).activation_bytes
    assert row.retained_bytes == pytest.approx(row.est_activation_bytes, rel=0.1)
    assert row.peak_bytes >= row.retained_bytes > 0
    assert row.achieved_flops_per_s == pytest.approx(row.est_flops / (row.forward_ms / 1e3))


def test_checkpointing_and_inference_change_what_is_kept() -> None:
    spec = specdsl.parse(SPEC + "gradient_checkpointing: true\n")
    model = specdsl.compile(spec, seed=0)
    full = specdsl.estimate(spec, 2, 32)
    kept = kept_activation_bytes(spec, full, "train")
    assert 0 < kept < full.activation_bytes
    assert kept_activation_bytes(spec, full, "inference") == 0
    checkpointed = measure(model, 2, 32, repeats=1, warmup=0, device="cpu")
    inference = measure(model, 2, 32, repeats=1, warmup=0, mode="inference", device="cpu")
    assert checkpointed.retained_bytes < full.activation_bytes / 2
    assert inference.retained_bytes == 2 * 3 * 4  # only the (B, C) logits


def test_profile_spec_calls_on_step_once_per_forward() -> None:
    calls: list[int] = []
    rows = profile_spec(
        specdsl.parse(SPEC), [8, 16], repeats=2, warmup=1, device="cpu",
        on_step=lambda: calls.append(1),
    )  # fmt: skip
    assert [row.seq_len for row in rows] == [8, 16]
    assert len(calls) == 2 * steps_per_length(2, 1) == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"seq_len": N + 1}, f"seq_len must be between 1 and {N}"),
        ({"repeats": 0}, "repeats must be a positive integer"),
        ({"warmup": -1}, "warmup must be a non-negative integer"),
        ({"mode": "eval"}, "mode must be one of train, inference"),
        ({"device": "gpu"}, "device must be auto, cpu, cuda or cuda:N"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"batch_size": B, "seq_len": N, "repeats": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        measure(Sine(), **args)  # type: ignore[arg-type]


def test_missing_cuda_is_a_runtime_error() -> None:
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            resolve_device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.fixture
def spec_file(tmp_path: Path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return str(path)


def test_cli_json_rows(spec_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["profile", spec_file, "--seq-len", "8,32", "--repeats", "1", "--batch-size", "2"]
    assert main([*argv, "--format", "json", "--device", "cpu", "--threads", "1"]) == 0
    out = capsys.readouterr()
    rows = json.loads(out.out)  # the progress bar goes to stderr, never into the JSON
    assert [(r["seq_len"], r["batch_size"]) for r in rows] == [(8, 2), (32, 2)]
    for row in rows:
        est = specdsl.estimate(specdsl.parse(SPEC), 2, row["seq_len"])
        assert row["est_flops"] == est.flops and row["params"] == est.params
        assert row["forward_ms"] > 0 and row["peak_bytes"] >= row["retained_bytes"] > 0
    assert rows[1]["retained_bytes"] > 3 * rows[0]["retained_bytes"]  # grows with n


def test_cli_table(spec_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", spec_file, "--seq-len", "16", "--repeats", "1", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("tiny: ") and "train mode" in lines[0]
    assert lines[1].split()[:3] == ["n", "batch", "forward"]
    assert lines[2].split()[:2] == ["16", "1"]
    assert "peak mem" in lines[1] and "est kept" in lines[1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seq-len", "8,x"], "--seq-len: 'x' is not a positive integer"),
        (["--seq-len", "64"], "--seq-len: 64 exceeds max_sequence_length 32"),
        (["--device", "gpu"], "--device: device must be"),
    ],
)
def test_cli_usage_errors_exit_2(
    spec_file: str, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", spec_file, *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_bad_counts_and_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hidden_dim: 16\nlayers: fourir\n")
    assert main(["profile", str(bad)]) == 1
    assert "unknown layer 'fourir'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["profile", str(bad), "--repeats", "0"])
    assert exit_info.value.code == 2
    assert "--repeats must be an integer >= 1" in capsys.readouterr().err
