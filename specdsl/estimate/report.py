"""Estimates as text: a table or markdown per spec, a comparison, JSON and CSV.

Every function takes ``results``: one :class:`SpecResult` per spec, holding its estimates
at each requested sequence length (with ``training`` filled in for ``--train``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from specdsl.estimate.compare import Crossover
from specdsl.estimate.model import CostRow, Estimate, TrainingMemory

_SI = ("", "K", "M", "G", "T", "P", "E", "Z", "Y")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
CSV_FIELDS = (
    "spec", "seq_len", "batch_size", "row", "index", "type", "label", "count", "params",
    "matmul_flops", "other_flops", "flops", "activation_bytes", "complexity",
)  # fmt: skip
TRAIN_FIELDS = tuple(
    name for name in TrainingMemory.model_fields if name not in ("dtype", "optimizer")
)


@dataclass
class SpecResult:
    """One spec's estimates, one per sequence length, in the order requested.

    ``label`` names the spec in reports and crossovers (its name, made unique by the CLI).
    """

    label: str
    estimates: list[Estimate] = field(default_factory=list)


def count(value: int) -> str:
    """``15582730`` -> ``15.6M`` (SI prefixes, 3 significant digits)."""
    return _scaled(value, 1000, _SI, "")


def size(value: int) -> str:
    """``1536`` -> ``1.5 KiB`` (binary prefixes)."""
    return _scaled(value, 1024, _BINARY, " ")


def _scaled(value: int, base: int, units: tuple[str, ...], sep: str) -> str:
    scaled, unit = float(value), 0
    while abs(scaled) >= base and unit < len(units) - 1:
        scaled, unit = scaled / base, unit + 1
    if unit == 0:
        return f"{value}{sep}{units[0]}".rstrip()
    digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
    return f"{scaled:.{digits}f}{sep}{units[unit]}"


def render(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """A plain-text table (columns aligned, numbers right-aligned) or a markdown table."""
    right = [
        i for i, h in enumerate(headers) if h not in ("block", "spec", "part", "complexity", "#")
    ]
    if markdown:
        rule = ["---:" if i in right else "---" for i in range(len(headers))]
        lines = [headers, rule, *rows]
        return "\n".join("| " + " | ".join(cell or " " for cell in line) + " |" for line in lines)
    widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers))]
    out = []
    for line in [headers, *rows]:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _columns(estimates: list[Estimate]) -> list[str]:
    return [h for est in estimates for h in (f"FLOPs n={est.seq_len}", f"act n={est.seq_len}")]


def _per_length(rows: Sequence[CostRow | Estimate]) -> list[str]:
    """FLOPs and activation memory of one row at each length, side by side."""
    return [cell for row in rows for cell in (count(row.flops), size(row.activation_bytes))]


def spec_table(result: SpecResult, markdown: bool = False) -> str:
    """Per-block rows (one per pattern item, ``x`` = repeat multiplicity), parts, totals."""
    estimates = result.estimates
    first = estimates[0]
    headers = ["#", "block", "x", "params", *_columns(estimates), "complexity"]
    rows = []
    for i, row in enumerate(first.layers):
        label = row.label + (f"  [repeat {row.group}]" if row.group is not None else "")
        cells = _per_length([est.layers[i] for est in estimates])
        rows.append(
            [str(row.index), label, str(row.count), count(row.params), *cells, row.complexity]
        )
    for i, part in enumerate(first.parts):
        cells = _per_length([est.parts[i] for est in estimates])
        rows.append(["", part.label, "", count(part.params), *cells, part.complexity])
    rows.append(["", "total", "", count(first.params), *_per_length(estimates), first.complexity])
    title = (
        f"{result.label}: {first.num_blocks:,} blocks, {first.params:,} parameters"
        f" ({size(first.param_bytes)} {first.dtype}), batch {first.batch_size},"
        f" complexity {first.complexity}"
    )
    lines = [f"### {title}", ""] if markdown else [title]
    lines.append(render(headers, rows, markdown))
    training = [training_lines(e, markdown) for e in estimates if e.training is not None]
    if training:
        lines += ["", "\n\n".join(training)] if markdown else training
    return "\n".join(lines)


def training_lines(est: Estimate, markdown: bool = False) -> str:
    """The ``--train`` summary of one estimate (a bullet list in markdown)."""
    train = est.training
    assert train is not None
    mode = "checkpointing" if train.checkpointing else "no checkpointing"
    head = f"training at batch {est.batch_size}, n={est.seq_len}"
    lines = [
        f"{train.dtype}, {train.optimizer}, {mode}: weights {size(train.weight_bytes)},"
        f" gradients {size(train.gradient_bytes)}, optimizer state {size(train.optimizer_bytes)}",
        f"activations {size(train.activation_bytes)} (with checkpointing"
        f" {size(train.activation_bytes_checkpointed)}, of which one block recomputed"
        f" {size(train.recompute_bytes)})",
        f"total {size(train.total_bytes)}"
        f" (with checkpointing {size(train.total_bytes_checkpointed)})",
    ]
    if train.memory_limit is not None:
        fits = train.max_batch_size or 0
        verdict = f"largest batch {fits:,}" if fits else "does not fit even at batch 1"
        lines.append(f"in {size(train.memory_limit)}: {verdict} at n={est.seq_len}")
    bullet = "- " if markdown else "  "
    return "\n".join([f"{head}:", *(bullet + line for line in lines)])


def comparison_table(
    results: list[SpecResult], crossovers: list[Crossover], markdown: bool = False
) -> str:
    """One row per spec; FLOPs and activation memory at every length any spec was asked for."""
    lengths = sorted({est.seq_len for result in results for est in result.estimates})
    columns = [h for n in lengths for h in (f"FLOPs n={n}", f"act n={n}")]
    headers = ["spec", "blocks", "params", *columns, "complexity"]
    rows = []
    for result in results:
        at = {est.seq_len: est for est in result.estimates}
        cells = [cell for n in lengths for cell in (_per_length([at[n]]) if n in at else ["", ""])]
        first = result.estimates[0]
        sizes = [f"{first.num_blocks:,}", count(first.params)]
        rows.append([result.label, *sizes, *cells, first.complexity])
    bullet = "- " if markdown else "  "
    lines = ["### comparison", ""] if markdown else ["comparison"]
    lines += [render(headers, rows, markdown), "", "crossovers (total forward FLOPs):"]
    lines += [bullet + crossover.describe() for crossover in crossovers]
    return "\n".join(lines)


def as_text(results: list[SpecResult], crossovers: list[Crossover], markdown: bool = False) -> str:
    """The ``table`` or ``markdown`` output: a table per spec, then the comparison."""
    sections = [spec_table(result, markdown) for result in results]
    if len(results) > 1:
        sections.append(comparison_table(results, crossovers, markdown))
    return "\n\n".join(sections) + "\n"


def as_json(results: list[SpecResult], crossovers: list[Crossover]) -> str:
    """One object per (spec, seq_len) (SPEC.md §8): a bare object when there is one, else a list.

    With several specs each object also lists the ``crossovers`` its spec takes part in.
    """
    objects = []
    for result in results:
        mine = [c.as_dict() for c in crossovers if result.label in (c.first, c.second)]
        for est in result.estimates:
            data = est.model_dump(mode="json")
            if len(results) > 1:
                data["crossovers"] = mine
            objects.append(data)
    return json.dumps(objects[0] if len(objects) == 1 else objects, indent=2)


def as_csv(results: list[SpecResult]) -> str:
    """One CSV row per block row, part and total of every (spec, seq_len); header first."""
    training = any(est.training is not None for r in results for est in r.estimates)
    fields = list(CSV_FIELDS) + ([f"train_{name}" for name in TRAIN_FIELDS] if training else [])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for result in results:
        for est in result.estimates:
            common = {"spec": result.label, "seq_len": est.seq_len, "batch_size": est.batch_size}
            for row in est.layers:
                writer.writerow({**common, "row": "block", **_csv_figures(row.model_dump())})
            for part in est.parts:
                writer.writerow({**common, "row": "part", **_csv_figures(part.model_dump())})
            total = {
                **common,
                "row": "total",
                "type": "total",
                "label": est.name,
                **_csv_figures(est.model_dump()),
            }
            if est.training is not None:
                total.update({f"train_{k}": getattr(est.training, k) for k in TRAIN_FIELDS})
            writer.writerow(total)
    return buffer.getvalue()


def _csv_figures(data: dict[str, object]) -> dict[str, object]:
    return {
        k: v
        for k, v in data.items()
        if k in CSV_FIELDS and k not in ("spec", "seq_len", "batch_size")
    }


__all__ = [
    "SpecResult",
    "as_csv",
    "as_json",
    "as_text",
    "comparison_table",
    "count",
    "render",
    "size",
    "spec_table",
    "training_lines",
]
