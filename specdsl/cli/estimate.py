"""``specdsl estimate SPEC...``: parameters, FLOPs, memory and complexity, without torch."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from specdsl.api import parse
from specdsl.cli import UsageError
from specdsl.cli.common import add_format, add_overrides, parse_overrides
from specdsl.errors import SpecError
from specdsl.estimate import Plan, parse_bytes, plan
from specdsl.estimate.compare import all_crossovers
from specdsl.estimate.report import SpecResult, as_csv, as_json, as_text
from specdsl.estimate.training import training_memory

HELP = "estimate parameters, FLOPs, activation memory and complexity (no weights built)"
TRAIN_OPTIONS = ("dtype", "optimizer", "checkpointing", "memory")


def _positive(text: str) -> int:
    """A positive decimal integer (argparse type), else an error naming ``text``."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(digits)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (.yaml, .yml, .sdsl)")
    parser.add_argument(
        "--seq-len",
        default=None,
        metavar="N[,N...]",
        help="sequence lengths, comma-separated (default: each spec's max_sequence_length)",
    )
    parser.add_argument(
        "--batch-size", type=_positive, default=1, metavar="B", help="batch size (default 1)"
    )
    add_format(parser, ("table", "json", "csv", "markdown"), "table")
    parser.add_argument(
        "--plot", default=None, metavar="FILE.png", help="draw FLOPs and memory against n"
    )
    parser.add_argument(
        "--expand", action="store_true", help="one row per block (small specs only)"
    )
    add_overrides(parser)
    parser.add_argument(
        "--sweep",
        default=None,
        metavar="KEY=V1,V2,...",
        help="estimate once per value of one field (e.g. hidden_dim=256,512,1024)",
    )
    train = parser.add_argument_group("training memory (any of these implies --train)")
    train.add_argument(
        "--train", action="store_true", help="add weights, gradients, optimizer state"
    )
    train.add_argument(
        "--dtype", choices=("float32", "bfloat16"), default=None, help="default float32"
    )
    train.add_argument("--optimizer", choices=("adam", "sgd"), default=None, help="default adam")
    train.add_argument(
        "--checkpointing",
        action="store_true",
        default=None,
        help="gradient checkpointing per block",
    )
    train.add_argument(
        "--memory", default=None, metavar="SIZE", help="e.g. 80GB: report the largest batch"
    )


def parse_lengths(text: str | None) -> list[int] | None:
    """``"512,2048"`` -> ``[512, 2048]``; UsageError naming any value that is not positive."""
    if text is None:
        return None
    lengths = []
    for part in text.split(","):
        try:
            lengths.append(_positive(part))
        except argparse.ArgumentTypeError:
            raise UsageError(f"--seq-len: {part.strip()!r} is not a positive integer") from None
    return lengths


def parse_sweep(text: str | None) -> list[dict[str, str]]:
    """``"hidden_dim=256,512"`` -> ``[{"hidden_dim": "256"}, {"hidden_dim": "512"}]``."""
    if text is None:
        return [{}]
    key, sep, values = text.partition("=")
    parts = [v.strip() for v in values.split(",")]
    if not sep or not key.strip() or not all(parts):
        raise UsageError(f"--sweep expects KEY=V1,V2,..., got {text!r}")
    return [{key.strip(): value} for value in parts]


def _load(args: argparse.Namespace) -> tuple[list[tuple[str, Plan]], list[str]] | None:
    """Parse and plan every spec (once per ``--sweep`` value); print all problems (like
    ``check``) and return None on any. Also returns each plan's sweep label."""
    overrides = parse_overrides(args.overrides)
    plans, sweeps, failed = [], [], False
    for path in args.specs:
        for sweep in parse_sweep(args.sweep):
            try:
                plans.append((path, plan(parse(path, overrides={**overrides, **sweep} or None))))
                sweeps.append(", ".join(f"{k}={v}" for k, v in sweep.items()))
            except SpecError as err:
                failed = True
                for problem in err.problems:
                    print(problem, file=sys.stderr)
    return None if failed else (plans, sweeps)


def _labels(plans: list[tuple[str, Plan]], sweeps: list[str]) -> list[str]:
    """Each spec's name (with its sweep value), with its path where two specs share a name."""
    names = [
        f"{planned.spec.name} ({sweep})" if sweep else planned.spec.name
        for (_, planned), sweep in zip(plans, sweeps, strict=True)
    ]
    return [
        name if names.count(name) == 1 else f"{name} ({path})"
        for name, (path, _) in zip(names, plans, strict=True)
    ]


def _training(args: argparse.Namespace) -> dict[str, Any] | None:
    if not (args.train or any(getattr(args, o) is not None for o in TRAIN_OPTIONS)):
        return None
    try:
        limit = None if args.memory is None else parse_bytes(args.memory)
    except ValueError as err:
        raise UsageError(f"--memory: {err}") from None
    return {
        "dtype": args.dtype or "float32",
        "optimizer": args.optimizer or "adam",
        "checkpointing": args.checkpointing,
        "memory_limit": limit,
    }


def _estimates(
    args: argparse.Namespace,
    path: str,
    planned: Plan,
    lengths: list[int] | None,
    training: dict[str, Any] | None,
    label: str,
) -> SpecResult:
    most = planned.spec.max_sequence_length
    for n in lengths or []:
        if n > most:
            raise UsageError(f"--seq-len: {n} exceeds max_sequence_length {most} of {path}")
    dtype = training["dtype"] if training else "float32"
    result = SpecResult(label)
    for n in lengths or [most]:
        try:
            est = planned.evaluate(args.batch_size, n, dtype=dtype, expand=args.expand)
        except ValueError as err:
            raise UsageError(str(err)) from None
        if training:
            est = est.model_copy(
                update={"training": training_memory(planned, args.batch_size, n, **training)}
            )
        result.estimates.append(est)
    return result


def run(args: argparse.Namespace) -> int:
    lengths = parse_lengths(args.seq_len)
    training = _training(args)
    loaded = _load(args)
    if loaded is None:
        return 1
    plans, sweeps = loaded
    results = [
        _estimates(args, path, planned, lengths, training, label)
        for label, (path, planned) in zip(_labels(plans, sweeps), plans, strict=True)
    ]
    named = [(result.label, planned) for result, (_, planned) in zip(results, plans, strict=True)]
    crossovers = all_crossovers(named, args.batch_size) if len(named) > 1 else []
    if args.format == "json":
        print(as_json(results, crossovers))
    elif args.format == "csv":
        sys.stdout.write(as_csv(results))
    else:
        sys.stdout.write(as_text(results, crossovers, markdown=args.format == "markdown"))
    if args.plot:
        from specdsl.estimate.plot import plot_scaling  # imports matplotlib

        marks = {r.label: [e.seq_len for e in r.estimates] for r in results}
        dtype = training["dtype"] if training else "float32"
        plot_scaling(named, args.plot, args.batch_size, marks, dtype)
    return 0
