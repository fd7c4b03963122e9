"""``estimate --plot``: FLOPs and activation memory against n, log-log, one line per spec."""

from __future__ import annotations

import os

from specdsl.estimate.engine import Plan

#: Lengths per doubling drawn on each curve.
POINTS_PER_OCTAVE = 4


def curve_lengths(max_len: int, low: int = 16) -> list[int]:
    """Lengths from ``low`` (or less, for short models) up to ``max_len``, evenly in log n."""
    start = min(low, max_len)
    points = {start, max_len}
    value = float(start)
    while value < max_len:
        value *= 2 ** (1 / POINTS_PER_OCTAVE)
        points.add(min(max_len, round(value)))
    return sorted(points)


def plot_scaling(
    specs: list[tuple[str, Plan]],
    path: str | os.PathLike[str],
    batch_size: int = 1,
    marks: dict[str, list[int]] | None = None,
    dtype: str = "float32",
) -> None:
    """Draw forward FLOPs and activation bytes against n for each spec and save it.

    Each curve runs up to its spec's ``max_sequence_length``; ``marks`` adds dots at the
    requested lengths of each spec. Uses matplotlib's Agg canvas (no display needed); the
    file format follows the suffix of ``path`` (``.png``, ``.svg``, ``.pdf``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    flops_axes, memory_axes = figure.subplots(1, 2)
    for label, plan in specs:
        lengths = curve_lengths(plan.spec.max_sequence_length)
        totals = [plan.total(plan.dims(batch_size, n, dtype)) for n in lengths]
        (line,) = flops_axes.plot(lengths, [t.flops for t in totals], label=label)
        memory_axes.plot(
            lengths, [t.activation_bytes for t in totals], label=label, color=line.get_color()
        )
        points = (marks or {}).get(label, [])
        if points:
            marked = [plan.total(plan.dims(batch_size, n, dtype)) for n in points]
            flops_axes.plot(points, [t.flops for t in marked], "o", color=line.get_color())
            memory_axes.plot(
                points, [t.activation_bytes for t in marked], "o", color=line.get_color()
            )
    for axes, title in (
        (flops_axes, "forward FLOPs"),
        (memory_axes, f"activation memory (bytes, {dtype})"),
    ):
        axes.set_xscale("log", base=2)
        axes.set_yscale("log")
        axes.set_xlabel("sequence length n")
        axes.set_title(f"{title}, batch {batch_size}")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.savefig(os.fspath(path), dpi=100)


__all__ = ["curve_lengths", "plot_scaling"]
