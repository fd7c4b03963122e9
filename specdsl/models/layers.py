"""Documented layer choices -> DSL layers (torch-free).

The model classes name their token mixers the way the documented API does
(``spectral_type="gfnet"``, ``spectral_config={"n_modes": 64}``). This module turns such
a choice into a :class:`~specdsl.schema.spec.LayerSpec` of a registered DSL layer, with
the documented shorthand keys translated and unknown keys reported with the allowed ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import PydanticUndefined

from specdsl.library import REGISTRY, LayerEntry
from specdsl.schema.resolve import allowed_args
from specdsl.schema.spec import LayerSpec

#: Documented family names that are not DSL layer names.
FAMILY_LAYERS = {"gfnet": "global_filter"}

#: Documented shorthand keys of free-form layer configs: DSL layer -> {key: DSL argument}.
SHORTHANDS: dict[str, dict[str, str]] = {
    "afno": {"n_modes": "modes_seq"},
    "global_filter": {"filter_activation": "activation"},
    "lst": {"use_conv_bias": "use_bias"},
}

_PLAIN = (bool, int, float, str)


def mixer_names() -> list[str]:
    """Every name a model argument may use for a token mixer (documented and DSL names)."""
    mixers = [name for name, entry in REGISTRY.items() if entry.kind == "mixer"]
    return sorted({*mixers, *FAMILY_LAYERS})


def fourier_layer(use_real_fft: bool) -> str:
    """FNet mixing: ``real_fourier`` (real-input FFTs) or ``fourier``; the same function."""
    return "real_fourier" if use_real_fft else "fourier"


def _entry(kind: str, argument: str) -> tuple[str, LayerEntry]:
    name = FAMILY_LAYERS.get(kind, kind)
    entry = REGISTRY.get(name)
    if entry is None or entry.kind != "mixer":
        raise ValueError(
            f"{argument}: unknown layer type {kind!r}; allowed: {', '.join(mixer_names())}"
        )
    return name, entry


def _default(entry: LayerEntry, field: str) -> Any:
    info = entry.config.model_fields.get(field)
    return PydanticUndefined if info is None else info.default


def layer_spec(
    kind: str,
    values: Mapping[str, Any] | None = None,
    *,
    argument: str = "layer",
    kind_argument: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> LayerSpec:
    """The DSL layer for a documented layer type and its arguments.

    Parameters
    ----------
    kind : str
        A documented family name (``fourier``, ``gfnet``, ...) or any registered mixer;
        ``fourier`` means FNet mixing, ``real_fourier`` unless ``use_real_fft`` is False.
    values : mapping, optional
        The user's arguments (documented shorthand keys allowed), e.g. a ``spectral_config``;
        a None value means the layer's default.
    argument : str
        The constructor argument the values came from, named in error messages.
    kind_argument : str, optional
        The argument that chose ``kind``, named if it is unknown (default: ``argument``).
    defaults : mapping, optional
        Values the model supplies unless ``values`` sets them (e.g. ``num_heads``).

    Returns
    -------
    LayerSpec
        The layer with only the arguments that differ from the layer's own defaults.

    Raises
    ------
    ValueError
        For an unknown layer type, an unknown key (the message lists the allowed keys)
        or a value that is not a bool, int, float or string.
    """
    merged = {**(defaults or {}), **(values or {})}
    choosers = []  # keys that choose the layer rather than set one of its arguments
    if kind == "fourier":  # the documented family: use_real_fft picks the implementation
        choosers.append("use_real_fft")
        use_real_fft = merged.pop("use_real_fft", True)
        if not isinstance(use_real_fft, bool):
            raise ValueError(
                f"{argument}: use_real_fft must be True or False, got {use_real_fft!r}"
            )
        kind = fourier_layer(use_real_fft)
    name, entry = _entry(kind, kind_argument or argument)
    shorthands = SHORTHANDS.get(name, {})
    allowed = allowed_args(entry)
    args: dict[str, Any] = {}
    for key, value in merged.items():
        target = shorthands.get(key, key)
        if target not in allowed:
            keys = ", ".join(sorted({*allowed, *shorthands, *choosers}))
            raise ValueError(f"{argument}: unknown key {key!r} for {kind}; allowed: {keys}")
        if value is None:  # not given: the layer's default
            continue
        if not isinstance(value, _PLAIN):
            raise ValueError(
                f"{argument}: {key} must be a bool, int, float or string, got {value!r}"
            )
        if target in args and args[target] != value:
            raise ValueError(
                f"{argument}: {key} and {target} disagree ({value!r} != {args[target]!r})"
            )
        args[target] = value
    kept = {key: value for key, value in args.items() if value != _default(entry, key)}
    return LayerSpec(type=name, args=kept)
