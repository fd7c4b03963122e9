"""Model arguments -> a validated :class:`~specdsl.schema.spec.Spec` (torch-free).

Every model class goes through :func:`model_spec`: the spec it builds is validated by the
same code that reads spec files (``parse(dump(spec))``), so a class and its file in
``architectures/`` cannot drift apart, and a layer that cannot honour ``causal`` is
refused exactly as it is in a file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import ValidationError

from specdsl.api import parse
from specdsl.errors import SpecError
from specdsl.language.dump import dump, format_layer
from specdsl.models.configs import ModelConfig
from specdsl.schema.resolve import describe
from specdsl.schema.spec import HeadSpec, Item, LayerSpec, RepeatSpec, Spec, count_blocks, expand

#: Constructor names of config fields, where they differ.
ARGUMENT_NAMES = {"sequence_length": "max_sequence_length"}

# ``spectral`` / ``spatial`` as a whole layer name in a custom pattern (not part of a
# longer name such as ``spectral_attention``, not inside a quoted string).
_PLACEHOLDER = re.compile(r"(?<![\w.\-\"'])(spectral|spatial)(?![\w.\-\"'])(\s*\()?")


def problems_text(err: ValidationError | SpecError) -> str:
    """The problems of a validation error as ``; ``-separated text, argument names first."""
    if isinstance(err, SpecError):
        return "; ".join(f"{p.message} ({p.hint})" if p.hint else p.message for p in err.problems)
    parts = []
    for error in err.errors():
        loc = ".".join(str(part) for part in error.get("loc", ()))
        name = ARGUMENT_NAMES.get(loc, loc)
        message = describe({**error, "loc": ()})
        parts.append(f"{name}={error.get('input')!r}: {message}" if name else message)
    return "; ".join(parts)


def head_spec(
    output_type: str, num_classes: int | None, vocab_size: int | None, hidden_dim: int
) -> HeadSpec:
    """The head for the documented ``output_type`` / ``num_classes`` combination.

    ``classification`` pools the first token (documented default) and without
    ``num_classes`` returns hidden states (no head); ``regression`` mean-pools to one
    output by default; ``sequence`` defaults to ``vocab_size``, else
    ``hidden_dim`` outputs per token; ``lm`` predicts ``vocab_size`` tokens.
    """
    if output_type == "classification":
        if num_classes is None:
            return HeadSpec()
        return HeadSpec(type="classification", num_classes=num_classes, pooling="cls")
    if output_type == "regression":
        return HeadSpec(type="regression", num_classes=num_classes or 1)
    if output_type == "sequence":
        return HeadSpec(type="sequence", num_classes=num_classes or vocab_size or hidden_dim)
    if output_type == "lm":
        if vocab_size is None:
            raise ValueError("output_type='lm' needs vocab_size (the head predicts tokens)")
        if num_classes not in (None, vocab_size):
            raise ValueError(
                f"output_type='lm' predicts the vocabulary: num_classes must be None or"
                f" vocab_size ({vocab_size}), got {num_classes}"
            )
        return HeadSpec(type="lm")
    return HeadSpec()


def cycle(period: list[Item], num_layers: int) -> list[Item]:
    """``num_layers`` blocks that repeat ``period``; a partial last period is written out.

    ``cycle([a, b], 5)`` is ``repeat 2 [a, b], a``; a single period is not wrapped in a
    ``repeat``.
    """
    size = count_blocks(period)
    full, rest = divmod(num_layers, size)
    items: list[Item] = list(period) if full == 1 else []
    if full > 1:
        items.append(RepeatSpec(repeat=full, layers=list(period)))
    return items + [layer for layer, _ in expand(period)[:rest]]


def custom_items(
    pattern: str, placeholders: dict[str, LayerSpec], hidden_dim: int, max_sequence_length: int
) -> list[Item]:
    """Parse a user's layer pattern, with ``spectral`` / ``spatial`` standing for layers.

    Raises
    ------
    ValueError
        Naming ``custom_pattern`` and what is wrong with it.
    """

    def substitute(match: re.Match[str]) -> str:
        if match.group(2):
            raise ValueError(
                f"custom_pattern: {match.group(1)!r} stands for the configured layer and takes"
                f" no arguments; set them in {match.group(1)}_config"
            )
        return format_layer(placeholders[match.group(1)])

    text = _PLACEHOLDER.sub(substitute, pattern)
    source = yaml.safe_dump(
        {"hidden_dim": hidden_dim, "max_sequence_length": max_sequence_length, "layers": text}
    )
    try:
        return parse(source).layers
    except SpecError as err:
        raise ValueError(f"custom_pattern {pattern!r}: {problems_text(err)}") from None


def model_spec(
    name: str,
    config: ModelConfig,
    layers: list[Item],
    *,
    causal: bool = False,
    seed: int | None = None,
    owner: str = "model",
    overrides: dict[str, Any] | None = None,
) -> Spec:
    """The validated spec of a model: model-level fields from ``config`` plus ``layers``.

    ``overrides`` replace model-level fields derived from ``config`` (e.g. the FNO
    family's ``ffn_hidden_dim`` from ``mlp_ratio``).

    Raises
    ------
    ValueError
        ``"{owner}: ..."`` with every problem validation found.
    """
    positional = config.positional_encoding_type if config.use_positional_encoding else "none"
    fields: dict[str, Any] = {
        "name": name,
        "vocab_size": config.vocab_size,
        "hidden_dim": config.hidden_dim,
        "max_sequence_length": config.sequence_length,
        "ffn_hidden_dim": config.ffn_hidden_dim,
        "dropout": config.dropout,
        "norm_eps": config.norm_eps,
        "positional_encoding": positional,
        "causal": causal,
        "gradient_checkpointing": config.gradient_checkpointing,
        "seed": seed,
        "layers": layers,
        **(overrides or {}),
    }
    try:
        fields["head"] = head_spec(
            config.output_type, config.num_classes, config.vocab_size, config.hidden_dim
        )
        return parse(dump(Spec(**fields)))
    except (ValidationError, SpecError) as err:
        raise ValueError(f"{owner}: {problems_text(err)}") from None
    except ValueError as err:
        raise ValueError(f"{owner}: {err}") from None
