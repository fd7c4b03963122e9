"""Saved models: the spec text, the specdsl version and a ``state_dict``, nothing executable.

Loading uses ``torch.load(weights_only=True)``, so a file carrying pickled code is
refused; the model is rebuilt from the stored spec (validated and size-checked like any
spec) before the weights are copied in.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import torch

from specdsl.errors import SpecError

FORMAT = "specdsl-model/1"


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a compiled model to ``path`` (conventionally ``.pt``)."""
    from specdsl import __version__
    from specdsl.language.dump import dump

    payload = {
        "format": FORMAT,
        "specdsl_version": __version__,
        "spec": dump(model.spec, format="yaml"),
        "state_dict": model.state_dict(),
    }
    torch.save(payload, os.fspath(path))


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        payload = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"{path}: refusing to load: not a plain specdsl model file ({first})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a specdsl model file (no {FORMAT!r} marker)")
    if not isinstance(payload.get("spec"), str) or not isinstance(payload.get("state_dict"), dict):
        raise ValueError(f"{path}: damaged specdsl model file (spec or state_dict missing)")
    return payload


def check_weights(expected: dict[str, torch.Tensor], found: dict[str, Any], path: str) -> None:
    """Raise ValueError naming the first tensor that is missing, extra or mis-shaped."""
    for name, tensor in expected.items():
        if name not in found:
            raise ValueError(f"{path}: weights do not match the spec: missing tensor {name!r}")
        other = found[name]
        if not isinstance(other, torch.Tensor) or other.shape != tensor.shape:
            shape = tuple(other.shape) if isinstance(other, torch.Tensor) else type(other).__name__
            raise ValueError(
                f"{path}: weights do not match the spec: tensor {name!r} has shape {shape},"
                f" the spec needs {tuple(tensor.shape)}"
            )
    for name in found:
        if name not in expected:
            raise ValueError(f"{path}: weights do not match the spec: unexpected tensor {name!r}")


def load_saved(path: str | os.PathLike[str], **limits: Any) -> Any:
    """Rebuild a model saved by :func:`save` and load its weights."""
    from specdsl.api import compile as compile_spec
    from specdsl.api import parse

    payload = _read(path)
    try:
        spec = parse(payload["spec"])
    except SpecError as err:
        raise SpecError(
            [type(p)(p.message, p.line, p.column, f"{path}[spec]", p.hint) for p in err.problems]
        ) from None
    model = compile_spec(spec, **limits)
    state = payload["state_dict"]
    check_weights(model.state_dict(), state, str(path))
    model.load_state_dict(state)
    return model
