"""``specdsl profile SPEC``: run the compiled model, print measured time and memory beside the
estimate (see :mod:`specdsl.profiling` for what is measured and how)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from specdsl.api import parse
from specdsl.cli import UsageError
from specdsl.cli.common import add_format, add_overrides, parse_overrides
from specdsl.cli.estimate import parse_lengths
from specdsl.estimate.report import count, render, size

if TYPE_CHECKING:
    from specdsl.profiling import ProfileRow

HELP = "run the compiled model on random input: forward time and peak memory vs the estimate"
HEADERS = [
    "n", "batch", "forward ms", "est FLOPs", "FLOP/s",
    "peak mem", "kept mem", "est kept", "kept/est",
]  # fmt: skip


def _count_arg(name: str, least: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer ``>= least``, else an error naming ``name``."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= {least}, got {text!r}")
        return value

    return convert


EPILOG = """\
Forward time is the median of --repeats timed forwards after --warmup untimed ones (CUDA
is synchronised around each). Memory counts tensors only, above what was alive before the
forward (weights and input excluded): "peak mem" is the most alive at once during one
forward, "kept mem" what is still alive after it (in train mode: what autograd saved for
backward, plus the output), next to the estimate of what is kept ("est kept"). On CPU both
come from torch.profiler's allocation events (exact tensor sizes); on CUDA from
torch.cuda.max_memory_allocated / memory_allocated (caching-allocator blocks, rounded to
512 bytes). Neither is process RSS: allocator caches, library workspaces and Python
objects are not counted.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``specdsl profile`` (its help ends with what the figures mean)."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("spec", metavar="SPEC", help="spec file (.yaml, .yml, .sdsl)")
    parser.add_argument(
        "--seq-len",
        default=None,
        metavar="N[,N...]",
        help="sequence lengths, comma-separated (default: the spec's max_sequence_length)",
    )
    parser.add_argument(
        "--batch-size", type=_count_arg("--batch-size", 1), default=1, metavar="B",
        help="batch size (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--repeats", type=_count_arg("--repeats", 1), default=5, metavar="R",
        help="timed forwards per length; the median is reported (default 5)",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=_count_arg("--warmup", 0), default=1, metavar="W",
        help="untimed forwards before timing (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--mode",
        choices=("train", "inference"),
        default="train",
        help="train: gradients on, memory kept for backward (default); inference: eval, no grad",
    )
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="weight seed (default: spec seed, else 0)"
    )
    parser.add_argument(
        "--threads", type=_count_arg("--threads", 1), default=None, metavar="T",
        help="CPU threads for torch (default: torch's own choice)",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_overrides(parser)
    add_format(parser, ("table", "json"), "table")


def _lengths(args: argparse.Namespace, most: int) -> list[int]:
    lengths = parse_lengths(args.seq_len) or [most]
    for n in lengths:
        if n > most:
            raise UsageError(f"--seq-len: {n} exceeds max_sequence_length {most} of {args.spec}")
    return lengths


def table(rows: list[ProfileRow]) -> str:
    """Profile rows (one per sequence length) as an aligned text table with a title and notes."""
    body = [
        [
            str(r.seq_len),
            str(r.batch_size),
            f"{r.forward_ms:.2f}",
            count(r.est_flops),
            count(int(r.achieved_flops_per_s)),
            size(r.peak_bytes),
            size(r.retained_bytes),
            size(r.est_activation_bytes),
            f"{r.retained_bytes / r.est_activation_bytes:.2f}" if r.est_activation_bytes else "-",
        ]
        for r in rows
    ]
    first = rows[0]
    title = (
        f"{first.name}: {first.params:,} parameters (estimate {first.est_params:,}),"
        f" {first.mode} mode on {first.device}"
    )
    notes = (
        "forward ms: median; FLOP/s: est FLOPs / median time\n"
        "peak mem: most tensor bytes alive during one forward; kept mem: alive after it"
        f" (saved for backward + output); from {first.memory_source}"
    )
    return f"{title}\n{render(HEADERS, body)}\n{notes}\n"


def _progress(enabled: bool) -> Any:
    """A rich progress bar on stderr (a no-op context when disabled)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not enabled,
    )


def run(args: argparse.Namespace) -> int:
    """Profile the spec at each length; print a table or JSON (exit status 0)."""
    spec = parse(args.spec, overrides=parse_overrides(args.overrides))
    lengths = _lengths(args, spec.max_sequence_length)
    import torch
    from rich.markup import escape

    from specdsl.profiling import profile_spec, resolve_device, steps_per_length

    if args.threads is not None:
        torch.set_num_threads(args.threads)

    try:
        device = resolve_device(args.device)
    except ValueError as err:
        raise UsageError(f"--device: {err}") from None
    total = len(lengths) * steps_per_length(args.repeats, args.warmup)
    with _progress(not args.no_progress) as bar:
        task = bar.add_task(escape(f"profiling {spec.name} on {device}"), total=total)
        rows = profile_spec(
            spec,
            lengths,
            batch_size=args.batch_size,
            repeats=args.repeats,
            warmup=args.warmup,
            mode=args.mode,
            device=device,
            seed=args.seed,
            on_step=lambda: bar.advance(task),
        )
    if args.format == "json":
        print(json.dumps([row.model_dump() for row in rows], indent=2))
    else:
        sys.stdout.write(table(rows))
    return 0
