"""Safe loading of saved models, determinism across processes, no code from spec files."""

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import specdsl
from specdsl.saving import FORMAT, save

SPEC = (
    "name: tiny\nhidden_dim: 16\nmax_sequence_length: 32\n"
    "layers: repeat 2 [fourier, attention(num_heads=2)]\n"
)


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (print, ("owned",))


def test_pickle_with_code_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    with path.open("wb") as handle:
        pickle.dump({"format": FORMAT, "spec": SPEC, "state_dict": {}, "payload": _Evil()}, handle)
    with pytest.raises(ValueError, match="refusing to load"):
        specdsl.load(str(path))


def test_mismatched_weights_name_the_tensor(tmp_path: Path) -> None:
    model = specdsl.load(SPEC)
    path = tmp_path / "model.pt"
    save(model, path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["blocks.1.mixer.qkv.weight"] = torch.zeros(3, 3)
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"'blocks\.1\.mixer\.qkv\.weight' has shape \(3, 3\)"):
        specdsl.load(str(path))
    del payload["state_dict"]["blocks.1.mixer.qkv.weight"]
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"missing tensor 'blocks\.1\.mixer\.qkv\.weight'"):
        specdsl.load(str(path))


def test_saved_spec_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save({"format": FORMAT, "spec": "layers: fourir\n", "state_dict": {}}, path)
    with pytest.raises(specdsl.SpecError, match=r"model\.pt\[spec\]:1:9: error: unknown layer"):
        specdsl.load(str(path))


def test_not_a_model_file(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a specdsl model file"):
        specdsl.load(str(path))


def test_yaml_never_constructs_objects(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    text = f"name: !!python/object/apply:os.system ['touch {marker}']\nlayers: fourier\n"
    with pytest.raises(specdsl.SpecError, match="YAML tag"):
        specdsl.parse(text)
    assert not marker.exists()


def _weights_and_output_digest() -> str:
    code = (
        "import hashlib, torch, specdsl\n"
        f"m = specdsl.load({SPEC!r}, seed=5).eval()\n"
        "h = hashlib.sha256()\n"
        "for k, v in sorted(m.state_dict().items()):\n"
        "    h.update(k.encode())\n"
        "    h.update(v.numpy().tobytes())\n"
        "g = torch.Generator().manual_seed(1)\n"
        "h.update(m(inputs_embeds=torch.randn(2, 9, 16, generator=g)).detach().numpy().tobytes())\n"
        "print(h.hexdigest())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_bit_identical_across_processes() -> None:
    assert _weights_and_output_digest() == _weights_and_output_digest()
