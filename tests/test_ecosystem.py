"""Conversion, formatting, JSON Schema and the generated catalogue."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import specdsl
from specdsl.catalogue import markdown
from specdsl.cli import main
from specdsl.library import REGISTRY
from specdsl.schema.json_schema import spec_json_schema

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURES = sorted((ROOT / "architectures").glob("*.*"))


@pytest.mark.parametrize("path", ARCHITECTURES, ids=lambda p: p.name)
def test_convert_round_trip(path: Path, tmp_path: Path) -> None:
    spec = specdsl.parse(path)
    other = ".yaml" if path.suffix == ".sdsl" else ".sdsl"
    first, back = tmp_path / f"a{other}", tmp_path / f"b{path.suffix}"
    assert main(["convert", str(path), "-o", str(first)]) == 0
    assert main(["convert", str(first), "-o", str(back)]) == 0
    assert specdsl.parse(first) == spec == specdsl.parse(back)


def test_fmt_is_canonical_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "messy.yaml"
    path.write_text("# my model\nlayers:   'repeat 2 [ fourier ,lst( dct ) ]'\nhidden_dim:    64\n")
    before = specdsl.parse(path)
    assert main(["fmt", "--check", str(path)]) == 1
    assert main(["fmt", str(path)]) == 0
    text = path.read_text()
    assert text.startswith("# my model\n")
    assert "repeat 2 [fourier, lst(transform_type=dct)]" in text
    assert specdsl.parse(path) == before
    assert main(["fmt", "--check", str(path)]) == 0


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = spec_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    "path", [p for p in ARCHITECTURES if p.suffix != ".sdsl"], ids=lambda p: p.name
)
def test_architectures_satisfy_json_schema(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


def test_json_schema_rejects_what_validation_rejects(
    validator: jsonschema.Draft202012Validator,
) -> None:
    assert list(validator.iter_errors({"hiden_dim": 3, "layers": "fourier"}))
    assert list(validator.iter_errors({"layers": [{"fourir": None}]}))
    assert list(validator.iter_errors({"layers": [{"lst": {"transform_type": "fft"}}]}))
    assert not list(validator.iter_errors({"layers": [{"lst": {"transform_type": "dst"}}]}))


def test_schema_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(REGISTRY) <= {k.removeprefix("layer_") for k in schema["$defs"]}


def test_layers_doc_is_up_to_date() -> None:
    assert (ROOT / "docs" / "layers.md").read_text() == markdown(), (
        "regenerate: python -m specdsl.catalogue > docs/layers.md"
    )


def test_list_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "layers", "--format", "json"]) == 0
    names = {row["name"] for row in json.loads(capsys.readouterr().out)}
    assert names == set(REGISTRY)
    assert main(["explain", "lst"]) == 0
    text = capsys.readouterr().out
    assert "transform_type" in text and "dct|dst|hadamard|mixed" in text
    assert main(["explain", "lts"]) == 1
    assert "did you mean 'lst'?" in capsys.readouterr().err


def test_estimate_sweep_gives_one_result_per_value(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(ROOT / "architectures" / "hybrid.yaml")
    args = ["estimate", path, "--sweep", "hidden_dim=128,256,512", "--format", "json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    rows = rows if isinstance(rows, list) else rows.get("estimates", rows)
    params = [row["params"] for row in rows]
    expected = [
        specdsl.estimate(specdsl.parse(path, overrides={"hidden_dim": d})).params
        for d in (128, 256, 512)
    ]
    assert params == expected and params == sorted(params)
    assert main(["estimate", path, "--sweep", "hidden_dim"]) == 2
    assert main(["estimate", path, "--sweep", "hidden_dim=64,-3"]) == 1
