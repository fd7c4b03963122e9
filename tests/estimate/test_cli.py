"""``specdsl estimate``: formats parse, crossovers, plots, training, usage errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from specdsl.cli import main

ROOT = Path(__file__).resolve().parents[2]
HYBRID = str(ROOT / "architectures" / "hybrid.yaml")
FNET = str(ROOT / "architectures" / "fnet.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["estimate", *argv])
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def test_table_has_rows_totals_and_complexity(capsys) -> None:
    code, out, _ = run(capsys, HYBRID, "--seq-len", "512,1024")
    assert code == 0
    assert "hybrid: 12 blocks, 15,582,730 parameters" in out
    assert "FLOPs n=512" in out and "FLOPs n=1024" in out
    assert "fourier  [repeat 0]" in out and "total" in out and "O(n log n)" in out


def test_json_is_one_object_per_spec_and_length(capsys) -> None:
    code, out, _ = run(capsys, HYBRID, "--format", "json", "--batch-size", "3")
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "hybrid" and data["batch_size"] == 3 and data["seq_len"] == 1024
    code, out, _ = run(capsys, HYBRID, FNET, "--format", "json", "--seq-len", "128,256")
    objects = json.loads(out)
    assert [(o["name"], o["seq_len"]) for o in objects] == [
        ("hybrid", 128), ("hybrid", 256), ("fnet", 128), ("fnet", 256)
    ]  # fmt: skip
    assert objects[0]["crossovers"][0]["first"] == "hybrid"


def test_csv_has_a_header_and_a_total_per_estimate(capsys) -> None:
    code, out, _ = run(capsys, HYBRID, FNET, "--format", "csv", "--seq-len", "64,128")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.startswith("spec,seq_len,batch_size,row,")
    totals = [r for r in rows if r["row"] == "total"]
    assert [(r["spec"], r["seq_len"]) for r in totals] == [
        ("hybrid", "64"), ("hybrid", "128"), ("fnet", "64"), ("fnet", "128")
    ]  # fmt: skip
    assert totals[0]["params"] == "15582730"


def test_markdown_tables(capsys) -> None:
    code, out, _ = run(capsys, HYBRID, FNET, "--format", "markdown", "--seq-len", "256")
    assert code == 0
    assert "### hybrid:" in out and "### comparison" in out
    assert "| # | block | x | params | FLOPs n=256 |" in out
    assert "| --- | --- | ---: | ---: | ---: |" in out


def test_comparison_reports_the_crossover(tmp_path, capsys) -> None:
    base = "hidden_dim: 32\nmax_sequence_length: 8192\n"
    attention = write(tmp_path, "attn.yaml", base + "name: attn\nlayers: attention(num_heads=4)")
    lst = write(tmp_path, "lst.yaml", base + "name: lst\nlayers: lst(dct, num_heads=4)")
    code, out, _ = run(capsys, attention, lst, "--seq-len", "64,8192")
    assert code == 0
    assert "comparison" in out
    assert "lst becomes cheaper than attn at n = " in out


def test_plot_writes_a_png(tmp_path, capsys) -> None:
    target = tmp_path / "scaling.png"
    code, _, _ = run(capsys, HYBRID, FNET, "--plot", str(target), "--seq-len", "256")
    assert code == 0
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_train_reports_memory_and_largest_batch(capsys) -> None:
    code, out, _ = run(capsys, HYBRID, "--train", "--memory", "16GB", "--seq-len", "512")
    assert code == 0
    assert "training at batch 1, n=512:" in out and "float32, adam, no checkpointing" in out
    assert "largest batch" in out
    code, out, _ = run(capsys, HYBRID, "--format", "json", "--dtype", "bfloat16", "--checkpointing")
    training = json.loads(out)["training"]
    assert training["dtype"] == "bfloat16" and training["checkpointing"] is True
    assert training["total_bytes"] == training["total_bytes_checkpointed"]


def test_expand_lists_every_block(capsys) -> None:
    code, out, _ = run(capsys, HYBRID, "--expand", "--format", "json")
    assert code == 0
    assert [row["index"] for row in json.loads(out)["layers"]] == list(range(12))


def test_set_overrides_before_estimating(capsys) -> None:
    code, out, _ = run(capsys, HYBRID, "--set", "hidden_dim=128", "--format", "json")
    assert code == 0 and json.loads(out)["layers"][0]["params"] < 526592


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5", "512,", "100000"])
def test_bad_seq_len_is_a_usage_error_naming_the_value(value: str, capsys) -> None:
    code, _, err = run(capsys, HYBRID, "--seq-len", value)
    assert code == 2
    shown = value.split(",")[-1] if value.endswith(",") else value
    assert f"'{shown}'" in err or shown in err


def test_seq_len_over_the_maximum_names_the_spec(capsys) -> None:
    code, _, err = run(capsys, HYBRID, FNET, "--seq-len", "1024")
    assert code == 2
    assert "1024 exceeds max_sequence_length 512" in err and "fnet.yaml" in err


@pytest.mark.parametrize("argv", [["--batch-size", "0"], ["--memory", "lots"], ["--dtype", "int8"]])
def test_other_bad_options_are_usage_errors(argv: list[str], capsys) -> None:
    code, _, err = run(capsys, HYBRID, *argv)
    assert code == 2 and err


def test_invalid_spec_reports_what_check_reports(tmp_path, capsys) -> None:
    bad = write(tmp_path, "bad.yaml", "hidden_dim: 32\nlayers: fourir\nhead: {type: lm}\n")
    code, out, err = run(capsys, bad, HYBRID)
    assert code == 1 and out == ""
    assert main(["check", bad]) == 1
    _, check_err = capsys.readouterr()
    assert err == check_err and "did you mean 'fourier'" in err
