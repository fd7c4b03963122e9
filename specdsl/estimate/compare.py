"""Crossover sequence lengths: from which ``n`` one spec costs fewer FLOPs than another."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from specdsl.estimate.engine import Plan

#: Grid points per doubling of n scanned before bisecting a change of sign.
STEPS_PER_OCTAVE = 8


@dataclass(frozen=True)
class Crossover:
    """A change in which of two specs needs fewer forward FLOPs, as ``n`` grows.

    ``seq_len`` is the smallest ``n`` from which ``cheaper`` is cheaper (``before`` was
    cheaper, or as cheap, just below it). ``seq_len`` is None when the order never
    changes between 1 and ``limit``: then ``cheaper`` is cheaper throughout (None: equal).
    """

    first: str
    second: str
    seq_len: int | None
    cheaper: str | None
    before: str | None
    limit: int

    def describe(self) -> str:
        """One line of the comparison report."""
        if self.seq_len is not None:
            other = self.second if self.cheaper == self.first else self.first
            return f"{self.cheaper} becomes cheaper than {other} at n = {self.seq_len:,}"
        if self.cheaper is None:
            return (
                f"{self.first} and {self.second} cost the same at every n from 1 to {self.limit:,}"
            )
        other = self.second if self.cheaper == self.first else self.first
        return (
            f"no crossover up to n = {self.limit:,}:"
            f" {self.cheaper} is cheaper than {other} throughout"
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def length_grid(limit: int) -> list[int]:
    """Every n up to 16, then ``STEPS_PER_OCTAVE`` lengths per doubling, up to ``limit``."""
    points = {n for n in range(1, min(limit, 16) + 1)}
    step = 2 ** (1 / STEPS_PER_OCTAVE)
    value = 16.0
    while value < limit:
        value *= step
        points.add(min(limit, round(value)))
    return sorted(points)


def crossovers(
    first: tuple[str, Plan], second: tuple[str, Plan], batch_size: int = 1, limit: int | None = None
) -> list[Crossover]:
    """Every change of the cheaper spec between ``n = 1`` and ``limit``.

    ``limit`` defaults to the smaller of the two ``max_sequence_length``: neither model
    runs longer inputs. FLOPs are compared at ``batch_size``; the scan is a grid of
    lengths refined by bisection, so a change of order between two grid points that
    reverts before the next is not seen (docs/estimates.md).
    """
    (name_a, plan_a), (name_b, plan_b) = first, second
    top = limit or min(plan_a.spec.max_sequence_length, plan_b.spec.max_sequence_length)

    def sign(n: int) -> int:
        a = plan_a.total(plan_a.dims(batch_size, n)).flops
        b = plan_b.total(plan_b.dims(batch_size, n)).flops
        return (a > b) - (a < b)

    names = {1: name_b, -1: name_a}  # the cheaper one for each sign of (a - b)
    found: list[Crossover] = []
    previous: tuple[int, int] | None = None  # (n, sign) of the last nonzero sign
    for n in length_grid(top):
        current = sign(n)
        if current == 0:
            continue
        if previous is not None and current != previous[1]:
            low, high = previous[0], n  # sign(low) == previous sign, sign(high) == current
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if sign(middle) != current else (low, middle)
            found.append(Crossover(name_a, name_b, high, names[current], names[previous[1]], top))
        previous = (n, current)
    if not found:
        cheaper = names[previous[1]] if previous is not None else None
        found.append(Crossover(name_a, name_b, None, cheaper, cheaper, top))
    return found


def all_crossovers(specs: list[tuple[str, Plan]], batch_size: int = 1) -> list[Crossover]:
    """Crossovers of every pair of specs, in the order given."""
    return [
        crossover
        for i, first in enumerate(specs)
        for second in specs[i + 1 :]
        for crossover in crossovers(first, second, batch_size)
    ]


__all__ = ["Crossover", "all_crossovers", "crossovers", "length_grid"]
