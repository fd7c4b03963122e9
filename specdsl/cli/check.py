"""``specdsl check SPEC...``: validate specs, report every problem."""

from __future__ import annotations

import argparse
import sys

from specdsl.api import parse
from specdsl.errors import SpecError

HELP = "validate one or more spec files and report every problem"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (.yaml, .yml, .sdsl)")


def run(args: argparse.Namespace) -> int:
    failed = False
    for path in args.specs:
        try:
            spec = parse(path)
        except SpecError as err:
            failed = True
            for problem in err.problems:
                print(problem, file=sys.stderr)
            continue
        from specdsl.schema.spec import count_blocks

        print(f"{path}: ok ({spec.name}: {count_blocks(spec.layers)} blocks)")
    return 1 if failed else 0
