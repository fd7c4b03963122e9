"""The documented models and their spec files in ``architectures/``.

Each model class ``X`` has the file ``architectures/{X.spec_name}.yaml``: the spec
``X.spec_for(**ARCHITECTURE_ARGUMENTS.get("X", {}))`` builds, i.e. the documented default
size. Regenerate the files after changing a default with::

    python -m specdsl.models architectures
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

import yaml

from specdsl.language.dump import dump
from specdsl.schema.spec import Spec

#: Public model class -> the module of ``specdsl.models`` that defines it.
MODULES = {
    "FNet": "fnet",
    "FNetEncoder": "fnet",
    "GFNet": "gfnet",
    "GFNetEncoder": "gfnet",
    "AFNOModel": "afno",
    "AFNOEncoder": "afno",
    "LSTTransformer": "lst",
    "LSTEncoder": "lst",
    "LSTDecoder": "lst",
    "SpectralAttentionTransformer": "spectral_attention",
    "SpectralAttentionEncoder": "spectral_attention",
    "PerformerTransformer": "spectral_attention",
    "WaveletTransformer": "wavelet",
    "WaveletEncoder": "wavelet",
    "WaveletDecoder": "wavelet",
    "FNOTransformer": "fno",
    "FNOEncoder": "fno",
    "FNODecoder": "fno",
    "HybridTransformer": "hybrid",
    "HybridEncoder": "hybrid",
    "AlternatingTransformer": "hybrid",
}

#: Arguments beyond the defaults used for the spec files: decoders require a vocabulary
#: (10,000 tokens, as in the documented decoder examples).
ARCHITECTURE_ARGUMENTS: dict[str, dict[str, Any]] = {
    "LSTDecoder": {"vocab_size": 10_000},
    "WaveletDecoder": {"vocab_size": 10_000},
    "FNODecoder": {"vocab_size": 10_000},
}

#: Spec files another owner writes by hand (checked, never overwritten).
HAND_WRITTEN: frozenset[str] = frozenset()


def model_class(name: str) -> Any:
    """The model class called ``name`` (imports torch)."""
    if name not in MODULES:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODULES)}")
    return getattr(import_module(f"specdsl.models.{MODULES[name]}"), name)


def architecture_spec(name: str) -> Spec:
    """The spec of model ``name`` for its file: documented defaults plus
    ``ARCHITECTURE_ARGUMENTS`` (no weights built)."""
    return model_class(name).spec_for(**ARCHITECTURE_ARGUMENTS.get(name, {}))


def architecture_text(name: str) -> str:
    """The YAML file text for model ``name``: a provenance comment and the spec."""
    arguments = ", ".join(f"{k}={v!r}" for k, v in ARCHITECTURE_ARGUMENTS.get(name, {}).items())
    header = f"# specdsl.models.{name}({arguments}) at its documented defaults.\n"
    # dump() writes the canonical fields; files read better in block style throughout.
    fields = yaml.safe_load(dump(architecture_spec(name)))
    return header + yaml.safe_dump(fields, sort_keys=False, default_flow_style=False, width=100)


def write_architectures(directory: str | Path) -> list[Path]:
    """Write every model's spec file into ``directory`` (hand-written ones excepted)."""
    written = []
    for name in MODULES:
        stem = model_class(name).spec_name
        if stem in HAND_WRITTEN:
            continue
        path = Path(directory) / f"{stem}.yaml"
        path.write_text(architecture_text(name), encoding="utf-8")
        written.append(path)
    return written
