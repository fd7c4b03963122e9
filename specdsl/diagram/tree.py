"""What the diagram groups: blocks as leaves, repeats (collapsed) or iterations (expanded)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from specdsl.schema.spec import Item, RepeatSpec


@dataclass(frozen=True)
class Leaf:
    """One drawn block: graph node ``block{index}``."""

    index: int


@dataclass(frozen=True)
class Cluster:
    """A box around drawn items standing for blocks ``first .. stop - 1``.

    ``repeat`` is the repeat count when the box shows one period of a collapsed repeat
    (drawn with a loop-back edge), None for one iteration in the expanded view.
    """

    title: str
    items: tuple[Leaf | Cluster, ...]
    first: int
    stop: int
    repeat: int | None = None


Node = Leaf | Cluster


def collapsed(items: Sequence[Item]) -> list[Node]:
    """One period per ``repeat``: its blocks of iteration 0, in a cluster titled ``xN``."""
    nodes, _ = _collapse(items, 0)
    return nodes


def _collapse(items: Sequence[Item], start: int) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    index = start
    for item in items:
        if isinstance(item, RepeatSpec):
            period, end = _collapse(item.layers, index)
            stop = index + item.repeat * (end - index)
            nodes.append(Cluster(f"x{item.repeat}", tuple(period), index, stop, item.repeat))
            index = stop
        else:
            nodes.append(Leaf(index))
            index += 1
    return nodes, index


def expanded(blocks: Sequence[Mapping[str, Any]]) -> list[Node]:
    """Every block, nested in one cluster per repeat iteration (from the nodes' ``groups``)."""
    counts: dict[str, int] = {}
    for block in blocks:
        for repeat_id, iteration in block["groups"]:
            counts[repeat_id] = max(counts.get(repeat_id, 0), iteration + 1)
    return _nest(blocks, 0, counts)


def _nest(blocks: Sequence[Mapping[str, Any]], depth: int, counts: dict[str, int]) -> list[Node]:
    def group(block: Mapping[str, Any]) -> tuple[str, int] | None:
        groups = block["groups"]
        return groups[depth] if len(groups) > depth else None

    nodes: list[Node] = []
    for key, run in itertools.groupby(blocks, key=group):
        members = list(run)
        if key is None:
            nodes.extend(Leaf(block["index"]) for block in members)
            continue
        repeat_id, iteration = key
        title = f"iteration {iteration + 1}/{counts[repeat_id]}"
        inner = tuple(_nest(members, depth + 1, counts))
        nodes.append(Cluster(title, inner, members[0]["index"], members[-1]["index"] + 1))
    return nodes


def leaves(nodes: Sequence[Node]) -> Iterator[Leaf]:
    """The leaves in drawing order."""
    for node in nodes:
        if isinstance(node, Leaf):
            yield node
        else:
            yield from leaves(node.items)


def one_period(items: Sequence[Item]) -> list[Item]:
    """The pattern with every repeat count set to 1: the blocks a collapsed view draws."""
    return [
        RepeatSpec(repeat=1, layers=one_period(item.layers))
        if isinstance(item, RepeatSpec)
        else item
        for item in items
    ]
