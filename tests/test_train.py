"""It learns: ``examples/train_synthetic.py`` scaled down (short sequences, few steps).

The three example specs (fourier-only, LST-only, hybrid) must each go from chance to at
least 80% held-out accuracy on the marker task at n=64 within a few hundred steps.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

import specdsl
from specdsl.schema.spec import expand

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "examples" / "specs").glob("marker-*.yaml"))


def _load_example() -> ModuleType:
    path = ROOT / "examples" / "train_synthetic.py"
    spec = importlib.util.spec_from_file_location("train_synthetic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


example = _load_example()
SMALL = example.TrainConfig(
    seq_len=64, batch_size=32, steps_per_epoch=25, epochs=10, eval_size=256, target=0.8
)


def test_the_three_example_specs_are_there() -> None:
    kinds = {
        path.stem: {layer.type for layer, _ in expand(specdsl.parse(path).layers)} for path in SPECS
    }
    assert kinds == {
        "marker-fourier": {"fourier"},
        "marker-lst": {"lst"},
        "marker-hybrid": {"fourier", "lst"},
    }


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_it_learns(path: Path) -> None:
    lines: list[str] = []
    result = example.train(specdsl.load(path, seed=0), SMALL, log=lines.append)
    assert result.accuracies[0] < 0.65, "the task should start near chance"
    assert result.accuracy >= 0.8, lines
    assert result.losses[-1] < result.losses[0] or len(result.losses) == 1
    assert len(lines) == len(result.losses) == result.steps // SMALL.steps_per_epoch
    assert lines[-1].startswith(f"{result.name}  epoch") and "accuracy" in lines[-1]


def test_marker_batches() -> None:
    generator = torch.Generator().manual_seed(0)
    ids, labels = example.marker_batch(generator, 200, 10, 16)
    assert ids.shape == (200, 10) and labels.shape == (200,)
    markers = ids == example.MARKER
    assert (markers.sum(1) == 1).all()  # exactly one marker per row
    assert ((ids >= example.FIRST_FILLER) | markers).all() and (ids < 16).all()
    assert torch.equal(labels, (markers.float().argmax(1) < 5).long())
    assert 0.3 < labels.float().mean() < 0.7  # both classes, roughly balanced


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seq_len": 1}, "seq_len must be at least 2"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"target": 1.5}, r"target must be in \(0, 1\]"),
    ],
)
def test_bad_config_names_the_argument(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        example.TrainConfig(**kwargs)


def test_train_refuses_models_it_cannot_train() -> None:
    no_vocab = specdsl.load("hidden_dim: 8\nmax_sequence_length: 8\nlayers: fourier\n")
    with pytest.raises(ValueError, match="vocab_size and 2 output classes"):
        example.train(no_vocab, SMALL)
    short = specdsl.load(SPECS[0], overrides={"max_sequence_length": 32})
    with pytest.raises(ValueError, match="seq_len must be at most"):
        example.train(short, SMALL)


def test_main_reports_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert example.main(["--seq-len", "1"]) == 2
    assert "seq_len must be at least 2" in capsys.readouterr().err
