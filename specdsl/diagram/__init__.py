"""Architecture diagrams: ``specdsl.diagram(spec) -> graphviz.Digraph`` (no torch).

The default view collapses every ``repeat N [...]`` into one cluster titled ``xN`` that
shows one period of the pattern; ``expand=True`` draws every block, one cluster per
repeat iteration. Nodes are coloured by layer family and, when ``specdsl.estimate`` is
available, show their parameters and FLOPs at ``max_sequence_length``. See docs/diagrams.md.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import graphviz

from specdsl.api import parse
from specdsl.diagram.costs import Costs, block_costs
from specdsl.diagram.draw import build
from specdsl.diagram.labels import FAMILY_STYLES, human_count, human_flops
from specdsl.diagram.output import FORMATS, missing_dot_message, output_format, save
from specdsl.schema.spec import Spec

__all__ = [
    "FAMILY_STYLES",
    "FORMATS",
    "Costs",
    "block_costs",
    "diagram",
    "human_count",
    "human_flops",
    "missing_dot_message",
    "output_format",
    "render",
    "save",
]


def diagram(
    spec: Spec | str | os.PathLike[str], *, expand: bool = False, estimates: bool = True
) -> graphviz.Digraph:
    """Draw an architecture.

    Parameters
    ----------
    spec : Spec, str or PathLike
        A validated spec, a spec file path or spec text.
    expand : bool
        Draw every block (one cluster per repeat iteration) instead of one period per
        ``repeat`` (the default).
    estimates : bool
        Show parameters and FLOPs at ``max_sequence_length`` (batch 1) when
        ``specdsl.estimate`` is available.

    Returns
    -------
    graphviz.Digraph
        ``.source`` is the DOT text; render with :func:`save` or ``Digraph.pipe``.

    Raises
    ------
    SpecError
        If the spec is invalid.
    ValueError
        If ``expand`` is set and the model has more than 2,000 blocks.

    Examples
    --------
    >>> dot = diagram("layers: repeat 6 [fourier, lst(dct)]\\nhidden_dim: 64", estimates=False)
    >>> dot.source.count("subgraph cluster")
    1
    """
    parsed = spec if isinstance(spec, Spec) else parse(spec)
    return build(parsed, expand=expand, estimates=estimates)


def render(
    spec: Spec | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    expand: bool = False,
    estimates: bool = True,
) -> Path:
    """Draw ``spec`` and write it to ``path`` by extension (see :func:`save`)."""
    output_format(path)  # reject a bad extension before any work
    return save(diagram(spec, expand=expand, estimates=estimates), path)


class _CallableModule(types.ModuleType):
    """Lets ``specdsl.diagram(spec)`` work after this module has been imported.

    Importing the submodule ``specdsl.diagram`` makes ``specdsl.diagram`` the module
    rather than the function that ``specdsl.__getattr__`` hands out; calling the module
    calls :func:`diagram`.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> graphviz.Digraph:
        return diagram(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
