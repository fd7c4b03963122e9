"""``specdsl list [layers|models]`` and ``specdsl explain NAME``."""

from __future__ import annotations

import argparse
import builtins
import json
import sys

HELP = "the catalogue: list layers or models, or explain one layer"


class _List:
    HELP = "list the built-in layers or models"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("what", nargs="?", choices=("layers", "models"), default="layers")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        rows = _layer_rows() if args.what == "layers" else _model_rows()
        if args.format == "json":
            print(json.dumps(rows, indent=2))
        else:
            _table(rows)
        return 0


class _Explain:
    HELP = "explain one layer: arguments, types, defaults, math, reference"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", metavar="NAME", help="a layer name, e.g. lst")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from specdsl.catalogue import explain

        print(explain(args.name))
        return 0


# Subcommand name -> handler (looked up by specdsl.cli); ``list`` shadows the builtin in
# this module, so the annotations below name ``builtins.list``.
list = _List
explain = _Explain


def _layer_rows() -> builtins.list[dict[str, str]]:
    from specdsl.catalogue import rows

    return [{k: v for k, v in row.items() if k != "summary"} for row in rows()]


def _model_rows() -> builtins.list[dict[str, str]]:
    import specdsl.models as models

    out = []
    for name in models.__all__:
        obj = getattr(models, name)
        doc = (obj.__doc__ or "").strip().split("\n")[0]
        out.append({"name": name, "summary": doc[:70]})
    return out


def _table(rows: builtins.list[dict[str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for key in rows[0] if rows else []:
        table.add_column(key)
    for row in rows:
        table.add_row(*row.values())
    Console(width=100, file=sys.stdout).print(table)
