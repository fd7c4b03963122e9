"""Colours, number formats and the HTML-like labels of diagram nodes (no graphviz calls)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any, NamedTuple

from specdsl.library import REGISTRY


class FamilyStyle(NamedTuple):
    """How blocks of one layer family are drawn: fill colour and the group named in the legend."""

    colour: str
    group: str


#: Fill colour and legend group of each layer family (``LayerEntry.family``).
FAMILY_STYLES: dict[str, FamilyStyle] = {
    "fourier": FamilyStyle("#9ecae1", "Fourier-type"),
    "global_filter": FamilyStyle("#c6dbef", "Fourier-type"),
    "afno": FamilyStyle("#deebf7", "Fourier-type"),
    "wavelet": FamilyStyle("#a1d99b", "wavelet"),
    "attention": FamilyStyle("#fdae6b", "attention-type"),
    "spectral_attention": FamilyStyle("#fdd0a2", "attention-type"),
    "lst": FamilyStyle("#bcbddc", "LST"),
    "fno": FamilyStyle("#fee391", "FNO"),
    "block": FamilyStyle("#e0e0e0", "composite"),
}
OTHER_STYLE = FamilyStyle("#ffffff", "other")
STAGE_COLOUR = "#f5f5f5"
MUTED = "#555555"
MAX_ARGS = 4
MAX_VALUE_CHARS = 24


def family_style(family: str) -> FamilyStyle:
    """The style of ``family``; unknown families are drawn white as ``other``."""
    return FAMILY_STYLES.get(family, OTHER_STYLE)


def _scaled(value: float, units: tuple[str, ...]) -> tuple[str, str]:
    """``value`` divided by powers of 1000 until under 1000, with its unit prefix."""
    unit = 0
    while abs(value) >= 999.5 and unit < len(units) - 1:
        value /= 1000.0
        unit += 1
    text = f"{value:.0f}" if unit == 0 or abs(value) >= 99.5 else f"{value:.1f}"
    return text.removesuffix(".0"), units[unit]


def human_count(count: int) -> str:
    """A parameter count for people: ``1234567 -> '1.2M'``, ``950 -> '950'``."""
    number, unit = _scaled(count, ("", "k", "M", "B", "T"))
    return number + unit


def human_flops(flops: int) -> str:
    """A FLOP count for people: ``3.4e9 -> '3.4 GFLOPs'``, ``950 -> '950 FLOPs'``."""
    number, unit = _scaled(flops, ("", "k", "M", "G", "T", "P", "E"))
    return f"{number} {unit}FLOPs"


def cost_text(params: int, flops: int) -> str:
    """``'1.2M params · 3.4 GFLOPs'``."""
    return f"{human_count(params)} params · {human_flops(flops)}"


def format_value(value: Any) -> str:
    """A short, spec-like rendering of one argument value."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def key_args(layer: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """``name=value`` for a block's declared positional arguments and every argument set.

    ``layer`` is a graph node (``type``, ``args``, ``config``); values come from the
    validated config where it has the field, else from what the spec wrote (block
    options such as ``ffn_hidden_dim``). ``defaults`` are the spec's defaults for the type.
    """
    entry = REGISTRY.get(layer["type"])
    config = layer.get("config")
    written = {**defaults, **layer.get("args", {})}
    names = list(entry.positional if entry else ()) + [n for n in written if n != "layers"]
    shown: list[str] = []
    for name in dict.fromkeys(names):
        value = getattr(config, name, written.get(name))
        shown.append(f"{name}={format_value(value)}")
    if len(shown) > MAX_ARGS:
        shown = [*shown[: MAX_ARGS - 1], f"+{len(shown) - MAX_ARGS + 1} more"]
    return shown


def _small(text: str, colour: str | None = None) -> str:
    colour_attr = f' COLOR="{colour}"' if colour else ""
    return f'<FONT POINT-SIZE="9"{colour_attr}>{text}</FONT>'


def _rows(cells: Iterable[str]) -> str:
    return "".join(f"<TR><TD>{cell}</TD></TR>" for cell in cells)


def layer_table(
    layer: Mapping[str, Any],
    all_defaults: Mapping[str, Mapping[str, Any]],
    extra: Iterable[str] = (),
) -> str:
    """The HTML table of one layer: type, key args, ``extra`` lines, composite children."""
    args = key_args(layer, all_defaults.get(layer["type"], {}))
    cells = [f"<B>{escape(layer['type'])}</B>"]
    cells += [_small(escape(", ".join(args[i : i + 2]))) for i in range(0, len(args), 2)]
    cells += [_small(escape(line), MUTED) for line in extra]
    children = layer.get("children") or []
    if children:
        branches = "".join(
            f'<TD BGCOLOR="{family_style(child["family"]).colour}" BORDER="1">'
            f"{layer_table(child, all_defaults)}</TD>"
            for child in children
        )
        inner = f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="2"><TR>{branches}</TR></TABLE>'
        cells.append(inner)
    return (
        f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{_rows(cells)}</TABLE>'
    )


def text_table(title: str, *lines: str) -> str:
    """A bold title over small muted lines (input, embedding, head, ... nodes)."""
    cells = [f"<B>{escape(title)}</B>", *(_small(escape(line), MUTED) for line in lines if line)]
    return (
        f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{_rows(cells)}</TABLE>'
    )


def legend_table(families: Iterable[str]) -> str:
    """The legend: a colour swatch per family drawn, with its group; two columns past four."""
    cells = []
    for family in dict.fromkeys(families):
        style = family_style(family)
        group = f" {_small(escape(f'({style.group})'), MUTED)}" if style.group != family else ""
        cells.append(
            f'<TD BGCOLOR="{style.colour}" WIDTH="14"> </TD>'
            f'<TD ALIGN="LEFT">{_small(escape(family))}{group}</TD>'
        )
    columns = 1 if len(cells) <= 4 else 2
    rows = [f'<TR><TD COLSPAN="{2 * columns}"><B>legend</B></TD></TR>']
    for start in range(0, len(cells), columns):
        row = cells[start : start + columns]
        row += ['<TD COLSPAN="2"> </TD>'] * (columns - len(row))
        rows.append(f"<TR>{''.join(row)}</TR>")
    body = "".join(rows)
    return f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2">{body}</TABLE>'


def html(table: str) -> str:
    """Wrap an HTML fragment as a graphviz HTML-like label."""
    return f"<{table}>"
