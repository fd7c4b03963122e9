"""How the non-causal LST layer groups its heads (no torch: the cost formula uses it too).

Heads are merged into transform *families* (``cosine``: DCT and DST heads, ``hadamard``,
``fourier``) and families into *passes*, one per token order, each one projection GEMM,
one batched transform per family and one output GEMM (:mod:`specdsl.library.lst._grouped`):

* **Makhoul order** (cosine heads): the tokens are reordered once before the projection and
  the output once after the output projection. Walsh-Hadamard heads join them when ``n``
  is a power of two: Makhoul's order is then a linear map ``A`` of the index bits over
  GF(2) (``i -> (i >> 1) xor (i & 1) (n - 1)``), so ``H P_A = P_B H`` with ``P_B`` another
  permutation, and a permutation of the coefficients commutes with their element-wise
  product: ``P_A^T H^-1 (H P_A q * H P_A k * H P_A v) = H^-1 (H q * H k * H v)`` exactly.
  (With zero padding to ``next_pow2(n)`` it does not hold.)
* **natural order**: FFT heads (a circular convolution needs the order), and the Hadamard
  heads otherwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

FAMILY = {"dct": "cosine", "dst": "cosine", "hadamard": "hadamard", "fft": "fourier"}


@dataclass(frozen=True)
class Family:
    """Heads ``start:stop`` use one transform family; heads ``dst_start:stop`` are DST."""

    name: str
    start: int
    stop: int
    dst_start: int

    @property
    def heads(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Pass:
    """Families projected together in one token order (``makhoul`` or natural)."""

    makhoul: bool
    families: tuple[Family, ...]

    @property
    def start(self) -> int:
        return self.families[0].start

    @property
    def stop(self) -> int:
        return self.families[-1].stop

    def copies_weights(self, num_heads: int) -> bool:
        """Whether the pass's projection rows are a copy (not a view) of ``W_qkv``."""
        return len(self.families) > 1 or self.stop - self.start != num_heads


def _merged(last: Family | None, kind: str, stop: int) -> Family | None:
    """``last`` extended by the heads of ``kind`` up to ``stop``, if they can share it."""
    if last is None or not last.name == FAMILY[kind] == "cosine":
        return None
    if kind == "dst":  # opens or extends the trailing DST range
        return Family("cosine", last.start, stop, last.dst_start)
    if last.dst_start == last.stop:  # DCT after DCT
        return Family("cosine", last.start, stop, stop)
    return None


def plan_families(groups: tuple[tuple[str, int], ...]) -> tuple[Family, ...]:
    """Merge consecutive ``(kind, count)`` head groups of one family (DST heads last)."""
    families: list[Family] = []
    start = 0
    for kind, count in groups:
        stop = start + count
        merged = _merged(families[-1] if families else None, kind, stop)
        if merged is None:
            families.append(Family(FAMILY[kind], start, stop, start if kind == "dst" else stop))
        else:
            families[-1] = merged
        start = stop
    return tuple(families)


@functools.lru_cache(maxsize=64)
def plan_passes(groups: tuple[tuple[str, int], ...], n: int) -> tuple[Pass, ...]:
    """Runs of consecutive families in one token order at length ``n``; Makhoul ones first.

    Hadamard heads join the cosine heads' Makhoul order when ``n`` is a power of two
    (see the module docstring), else they keep the natural order.
    """
    families = plan_families(groups)
    joins = n & (n - 1) == 0 and any(family.name == "cosine" for family in families)
    passes: list[Pass] = []
    for family in families:
        makhoul = family.name == "cosine" or (family.name == "hadamard" and joins)
        if passes and passes[-1].makhoul == makhoul:
            passes[-1] = Pass(makhoul, (*passes[-1].families, family))
        else:
            passes.append(Pass(makhoul, (family,)))
    return tuple(sorted(passes, key=lambda p: not p.makhoul))


__all__ = ["FAMILY", "Family", "Pass", "plan_families", "plan_passes"]
