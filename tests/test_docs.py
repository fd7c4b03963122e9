"""Every code block in README.md and docs/ runs.

- ```python blocks are executed in order per file, in one namespace, from the repo root
  (a block whose info string contains ``no-run`` is only compiled: multi-GPU recipes);
- ``` blocks whose first line starts with ``$ specdsl`` are run as commands and their
  output must equal the rest of the block;
- ```yaml blocks must parse as YAML, and as a spec when they have a ``layers`` key.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import specdsl

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(path.read_text())]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for info, code in blocks(path):
        if not info.startswith("python"):
            continue
        compiled = compile(code, f"{path.name}:block", "exec")
        if "no-run" not in info:
            exec(compiled, namespace)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_blocks_are_specs(path: Path) -> None:
    for info, text in blocks(path):
        if info.startswith("yaml"):
            data = yaml.safe_load(text)
            if isinstance(data, dict) and "layers" in data:
                specdsl.parse(text)


def _command_blocks() -> list[tuple[str, str, str]]:
    out = []
    for path in DOCS:
        for info, text in blocks(path):
            first, _, expected = text.partition("\n")
            if info in ("", "console", "text") and first.startswith("$ specdsl "):
                out.append((str(path.relative_to(ROOT)), first[2:], expected))
    return out


@pytest.mark.parametrize(
    ("doc", "command", "expected"), _command_blocks(), ids=lambda v: str(v)[:60]
)
def test_command_blocks_print_what_they_show(doc: str, command: str, expected: str) -> None:
    args = shlex.split(command)[1:]
    env = {**os.environ, "COLUMNS": "100"}
    result = subprocess.run(
        [sys.executable, "-m", "specdsl", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    shown = (result.stdout + result.stderr).rstrip("\n")
    assert shown == expected.rstrip("\n"), f"{doc}: `{command}` printed:\n{shown}"
