"""``specdsl build SPEC``: validate, compile and summarise (and optionally save)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from specdsl.api import parse
from specdsl.cli.common import add_format, add_overrides, parse_overrides
from specdsl.guard import MAX_ACTIVATION_BYTES, MAX_BLOCKS, MAX_PARAM_BYTES, MAX_PARAMS
from specdsl.language.dump import format_layer
from specdsl.schema.spec import expand

HELP = "validate and compile a spec, print a summary, optionally save the model"
LIMITS = {
    "max_params": MAX_PARAMS,
    "max_param_bytes": MAX_PARAM_BYTES,
    "max_blocks": MAX_BLOCKS,
    "max_activation_bytes": MAX_ACTIVATION_BYTES,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="spec file (.yaml, .yml, .sdsl)")
    add_overrides(parser)
    parser.add_argument(
        "--seed", type=int, default=None, help="weight seed (default: spec seed, else 0)"
    )
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="save the model (.pt)")
    add_format(parser, ("text", "json"), "text")
    limits = parser.add_argument_group("resource limits (checked before any weight exists)")
    for flag, default in LIMITS.items():
        limits.add_argument(
            f"--{flag.replace('_', '-')}",
            type=float,
            default=None,
            metavar="N",
            help=f"default {default:.4g}",
        )


def summary(model: Any) -> dict[str, Any]:
    """Blocks, parameter count and output shape of a compiled model."""
    spec = model.spec
    out = {
        "classification": ["B", "C"],
        "regression": ["B", "C"],
        "sequence": ["B", "N", "C"],
        "lm": ["B", "N", "V"],
    }.get(spec.head.type, ["B", "N", "D"])
    return {
        "name": spec.name,
        "blocks": [format_layer(layer) for layer, _ in expand(spec.layers)],
        "num_blocks": len(model.blocks),
        "params": sum(p.numel() for p in model.parameters()),
        "input": "input_ids (B, N)"
        if spec.vocab_size
        else f"inputs_embeds (B, N, {spec.hidden_dim})",
        "output_shape": out,
        "head": spec.head.type,
    }


def run(args: argparse.Namespace) -> int:
    from specdsl.api import compile as compile_spec

    spec = parse(args.spec, overrides=parse_overrides(args.overrides))
    limits = {k: getattr(args, k) for k in LIMITS if getattr(args, k) is not None}
    if "max_blocks" in limits:
        limits["max_blocks"] = int(limits["max_blocks"])
    model = compile_spec(spec, seed=args.seed, **limits)
    info = summary(model)
    if args.output:
        from specdsl.saving import save

        save(model, args.output)
        info["saved"] = args.output
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['name']}: {info['num_blocks']} blocks, {info['params']:,} parameters")
    print(f"  input:  {info['input']}")
    print(f"  output: ({', '.join(info['output_shape'])})  head={info['head']}")
    print("  blocks: " + _compress(info["blocks"]))
    if args.output:
        print(f"  saved:  {args.output}")
    return 0


def _compress(names: list[str]) -> str:
    """``fourier, lst, fourier, lst`` -> ``2 x [fourier, lst]`` when the list is periodic."""
    for period in range(1, len(names) // 2 + 1):
        if len(names) % period == 0 and names == names[:period] * (len(names) // period):
            return f"{len(names) // period} x [{', '.join(names[:period])}]"
    return ", ".join(names)
