"""``specdsl diagram SPEC [-o FILE] [--expand]``: draw the architecture (DOT, SVG, PNG, PDF)."""

from __future__ import annotations

import argparse
import sys

from specdsl.cli import UsageError
from specdsl.cli.common import add_overrides, parse_overrides

HELP = "draw a spec as a diagram (.dot always; .svg/.png/.pdf need Graphviz)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="spec file (.yaml, .yml, .sdsl)")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="write .dot/.gv (DOT text) or render .svg/.png/.pdf; default: DOT text on stdout",
    )
    parser.add_argument(
        "--expand", action="store_true", help="draw every block instead of one period per repeat"
    )
    add_overrides(parser)


def run(args: argparse.Namespace) -> int:
    from specdsl.api import parse
    from specdsl.diagram import diagram as draw
    from specdsl.diagram import output_format, save

    if args.output is not None:
        try:
            output_format(args.output)
        except ValueError as err:
            raise UsageError(str(err)) from None
    spec = parse(args.spec, overrides=parse_overrides(args.overrides))
    dot = draw(spec, expand=args.expand)
    if args.output is None:
        sys.stdout.write(dot.source)
        return 0
    path = save(dot, args.output)
    print(f"wrote {path}")
    return 0
