"""Write a diagram by file extension: DOT text always, images through Graphviz's ``dot``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import graphviz

SOURCE_FORMATS = ("dot", "gv")
IMAGE_FORMATS = ("svg", "png", "pdf")
FORMATS = SOURCE_FORMATS + IMAGE_FORMATS


def output_format(path: str | os.PathLike[str]) -> str:
    """The format named by ``path``'s extension.

    Raises
    ------
    ValueError
        If the extension is not one of ``.dot``, ``.gv``, ``.svg``, ``.png``, ``.pdf``.
    """
    fmt = Path(path).suffix.lower().removeprefix(".")
    if fmt not in FORMATS:
        allowed = ", ".join(f".{f}" for f in FORMATS)
        raise ValueError(f"output {str(path)!r}: the extension must be one of {allowed}")
    return fmt


def missing_dot_message(fmt: str) -> str:
    """The one-line error for rendering ``fmt`` without Graphviz installed."""
    return (
        f"rendering .{fmt} needs the Graphviz 'dot' program: "
        "install Graphviz (Debian: apt-get install graphviz) or write .dot"
    )


def render_bytes(dot: graphviz.Digraph, fmt: str) -> bytes:
    """``dot`` rendered as ``fmt`` (DOT source needs no Graphviz program).

    Raises
    ------
    RuntimeError
        If ``fmt`` is an image format and the ``dot`` program is not installed.
    """
    if fmt in SOURCE_FORMATS:
        return dot.source.encode("utf-8")
    if shutil.which("dot") is None:
        raise RuntimeError(missing_dot_message(fmt))
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(missing_dot_message(fmt)) from None


def save(dot: graphviz.Digraph, path: str | os.PathLike[str]) -> Path:
    """Write ``dot`` to ``path`` in the format its extension names; returns the path.

    ``.dot``/``.gv`` write the DOT source (always works); ``.svg``/``.png``/``.pdf``
    render through Graphviz's ``dot`` program.

    Raises
    ------
    ValueError
        For any other extension.
    RuntimeError
        When rendering an image and ``dot`` is not installed.
    """
    target = Path(path)
    data = render_bytes(dot, output_format(target))
    target.write_bytes(data)
    return target
