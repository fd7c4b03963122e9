"""``specdsl convert``, ``specdsl fmt`` and ``specdsl schema``: specs as text."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from specdsl.api import parse, read_source
from specdsl.cli import UsageError
from specdsl.language.dump import dump

HELP = "convert between YAML and text specs, format specs, print the JSON Schema"
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".sdsl": "sdsl"}


def _format_of(path: str) -> str:
    fmt = _FORMATS.get(Path(path).suffix)
    if fmt is None:
        raise UsageError(f"{path}: unknown spec extension; use .yaml, .yml or .sdsl")
    return fmt


class _Convert:
    HELP = "convert a spec between YAML and the text form (loss-free)"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("spec", metavar="SPEC")
        parser.add_argument(
            "-o", "--output", required=True, metavar="OUT", help="target file (.yaml/.yml/.sdsl)"
        )

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        fmt = _format_of(args.output)
        Path(args.output).write_text(dump(parse(args.spec), format=fmt))
        print(f"wrote {args.output}")
        return 0


def _header_comments(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


class _Fmt:
    HELP = "rewrite specs in canonical layout (keeps the leading comment block)"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("specs", nargs="+", metavar="FILE")
        parser.add_argument(
            "--check", action="store_true", help="only report files that would change (exit 1)"
        )

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        changed = []
        for path in args.specs:
            text, _, _ = read_source(path)
            formatted = _header_comments(text) + dump(parse(path), format=_format_of(path))
            if formatted != text:
                changed.append(path)
                if not args.check:
                    Path(path).write_text(formatted)
        for path in changed:
            print(f"{'would reformat' if args.check else 'reformatted'} {path}")
        return 1 if args.check and changed else 0


class _Schema:
    HELP = "print the JSON Schema of spec files (for editors and validators)"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-o", "--output", default=None, metavar="FILE")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from specdsl.schema.json_schema import spec_json_schema

        text = json.dumps(spec_json_schema(), indent=2)
        if args.output:
            Path(args.output).write_text(text + "\n")
        else:
            sys.stdout.write(text + "\n")
        return 0


convert, fmt, schema = _Convert, _Fmt, _Schema
