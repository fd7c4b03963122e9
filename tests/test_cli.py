"""The command line: exit codes, error lines, help without torch, build summary and saving."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import specdsl
from specdsl.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
HYBRID = str(ROOT / "architectures" / "hybrid.yaml")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "specdsl", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_help_of_every_command_does_not_import_torch() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from specdsl.cli import main, COMMANDS\n"
        "for args in [['--help']] + [[c, '--help'] for c in COMMANDS]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(args)\n"
        "        except SystemExit as e: assert e.code == 0, (args, e.code)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_check_reports_located_errors_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hidden_dim: 64\nlayers: repeat 2 [fourir]\n")
    result = run_cli("check", str(bad), HYBRID)
    assert result.returncode == 1
    assert f"{bad}:2:19: error: unknown layer 'fourir' (did you mean 'fourier'?)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "hybrid.yaml: ok" in result.stdout


def test_bad_usage_is_exit_2() -> None:
    assert run_cli("build").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_build_summary_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "build",
                HYBRID,
                "--format",
                "json",
                "--set",
                "hidden_dim=64",
                "--set",
                "head.num_classes=4",
            ]
        )
        == 0
    )
    info = json.loads(capsys.readouterr().out)
    assert info["num_blocks"] == 12
    assert info["blocks"][:2] == ["fourier", "lst(transform_type=dct)"]
    model = specdsl.load(HYBRID, overrides={"hidden_dim": 64, "head.num_classes": 4})
    assert info["params"] == sum(p.numel() for p in model.parameters())


def test_build_rejects_bad_override(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", HYBRID, "--set", "hidden_dim=-1"]) == 1
    assert "hidden_dim" in capsys.readouterr().err
    assert main(["build", HYBRID, "--set", "nonsense"]) == 2


def test_saved_model_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "model.pt"
    assert main(["build", HYBRID, "--set", "hidden_dim=32", "--seed", "7", "-o", str(out)]) == 0
    restored = specdsl.load(str(out))
    original = specdsl.load(HYBRID, overrides={"hidden_dim": 32}, seed=7)
    ids = torch.randint(0, 100, (2, 10))
    restored.eval(), original.eval()
    assert torch.equal(restored(input_ids=ids), original(input_ids=ids))


def test_commands_table_is_complete() -> None:
    assert {"build", "check", "estimate", "diagram", "list", "explain", "convert", "schema"} <= set(
        COMMANDS
    )


def test_build_limits_are_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", HYBRID, "--max-params", "1e6"]) == 1
    assert "over the limit of 1,000,000" in capsys.readouterr().err
    assert main(["build", HYBRID, "--max-params", "1e8", "--set", "hidden_dim=32"]) == 0
