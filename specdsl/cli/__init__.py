"""The ``specdsl`` command line: one module per subcommand, loaded without torch.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``; torch is imported inside ``run`` only where a command needs it.
Exit codes: 0 ok, 1 invalid spec or failed work, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from specdsl.errors import SpecError

COMMANDS = {
    "build": "specdsl.cli.build",
    "check": "specdsl.cli.check",
    "estimate": "specdsl.cli.estimate",
    "diagram": "specdsl.cli.diagram",
    "list": "specdsl.cli.catalogue",
    "explain": "specdsl.cli.catalogue",
    "convert": "specdsl.cli.convert",
    "fmt": "specdsl.cli.convert",
    "schema": "specdsl.cli.convert",
    "profile": "specdsl.cli.profile",
}


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


def _command(name: str):  # type: ignore[no-untyped-def]
    module = import_module(COMMANDS[name])
    return getattr(module, name, module)


def build_parser() -> argparse.ArgumentParser:
    from specdsl import __version__

    parser = argparse.ArgumentParser(
        prog="specdsl",
        description="Compile, check, estimate and draw spectral-transformer architectures.",
    )
    parser.add_argument("--version", action="version", version=f"specdsl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            command = _command(name)
        except ModuleNotFoundError:
            continue  # a command whose module is not written yet
        sub_parser = sub.add_parser(name, help=command.HELP, description=command.HELP)
        command.add_arguments(sub_parser)
        sub_parser.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``specdsl`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SpecError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    except UsageError as err:
        parser.print_usage(sys.stderr)
        print(f"specdsl: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, OSError, RuntimeError) as err:
        print(f"specdsl: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
