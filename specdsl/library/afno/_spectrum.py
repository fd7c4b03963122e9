"""The truncated 2-D spectrum of AFNO, computed hidden axis first (torch).

AFNO keeps ``X[k, j]`` of the orthonormal 2-D DFT of real ``x`` ``(B, N, D)`` for sequence
bins ``k < K`` and the ``mh`` lowest-|frequency| hidden bins ``j`` (``0 .. P-1`` then
``-M .. -1``, ``P = ceil(mh/2)``, ``M = floor(mh/2)``). By Hermitian symmetry
``X[k, -m] = conj(X[-k, m])``, so the real FFT along the contiguous hidden axis and a complex
FFT along the sequence of only ``J = max(P, M + 1)`` hidden columns give every kept bin;
that is about half the sequence-axis work of ``rfft`` over the sequence followed by ``fft``
over the hidden axis, with no strided real transform of the whole input.

The inverse ``irfft_seq(ifft_hid(Y))`` (``Y`` zero off the kept bins) equals
``Re(IDFT_2(w Y))`` with ``w_k = 1`` on the DC and Nyquist sequence bins and ``2``
elsewhere; its Hermitian part needs, on hidden columns ``0 .. J-1`` of all ``N`` sequence
bins, ``Y`` on the kept rows and ``conj(Y)`` of the negative hidden bins on the mirrored
rows ``-k``; then ``ifft`` along the sequence and ``irfft`` along the hidden axis. The
hidden columns ``0`` and ``D/2`` are self-conjugate: ``irfft`` reads only their real part,
so they carry ``2 Y`` on the kept rows instead of a mirrored copy.

The kept bins travel as contiguous blocks ``(num_blocks, B, K, block)`` (the layout of the
block MLP), built from and read back into the spectrum without a further copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Layout:
    """Where the kept bins of an ``(N, D)`` spectrum sit (``K`` sequence bins, ``mh`` hidden)."""

    n: int
    hidden_dim: int
    kept: int
    modes_hidden: int

    @property
    def positive(self) -> int:
        """``P``: hidden bins ``0 .. P-1`` are kept as they are."""
        return (self.modes_hidden + 1) // 2

    @property
    def negative(self) -> int:
        """``M``: hidden bins ``-M .. -1`` come from ``conj`` of columns ``M .. 1``."""
        return self.modes_hidden // 2

    @property
    def nyquist(self) -> bool:
        """Whether bin ``-M`` is the self-conjugate ``D/2`` (every bin kept, even ``D``)."""
        return 2 * self.negative == self.hidden_dim

    @property
    def columns(self) -> int:
        """``J``: hidden columns the sequence-axis transforms run on."""
        return max(self.positive, self.negative + 1)

    @property
    def direct(self) -> int:
        """Kept bins (a prefix of the ordered ``mh``) placed as they are in the inverse."""
        return self.positive + int(self.nyquist)

    @property
    def nyquist_row(self) -> bool:
        """Whether the sequence Nyquist bin ``N/2`` is kept (weight 1 in ``irfft``, like DC)."""
        return 2 * (self.kept - 1) >= self.n


def _join_blocks(first: Tensor, second: Tensor, size: int) -> Tensor:
    """``cat(first, second)`` along the last dim (``(B, K, nb * size)`` bins) as contiguous
    blocks ``(nb, B, K, size)``: one copy; a block split between the two is joined first."""
    cut = first.shape[-1] // size * size
    chunks = [first[..., :cut]]
    if cut < first.shape[-1]:
        fill = size - (first.shape[-1] - cut)
        chunks.append(torch.cat((first[..., cut:], second[..., :fill]), dim=-1))
        second = second[..., fill:]
    chunks.append(second)
    return torch.cat([c.unflatten(-1, (-1, size)).movedim(-2, 0) for c in chunks if c.numel()])


def _bins(blocks: Tensor, start: int, stop: int) -> list[tuple[int, Tensor]]:
    """Bins ``start .. stop-1`` of ``blocks`` ``(nb, B, K, size)`` as ``(first bin, view)``
    pieces: whole blocks as one ``(B, K, count, size)`` view, partial blocks as
    ``(B, K, width)`` views."""
    size = blocks.shape[-1]
    pieces: list[tuple[int, Tensor]] = []
    if start >= stop:
        return pieces
    low, high = -(-start // size), stop // size  # the whole blocks
    if low > high:  # inside one block
        return [(start, blocks[start // size, ..., start % size : stop - high * size])]
    if start < low * size:
        pieces.append((start, blocks[start // size, ..., start % size :]))
    if low < high:
        pieces.append((low * size, blocks[low:high].movedim(0, -2)))
    if high * size < stop:
        pieces.append((high * size, blocks[high, ..., : stop - high * size]))
    return pieces


def _width(piece: Tensor) -> int:
    """How many bins a :func:`_bins` piece holds."""
    return piece.shape[-1] * (piece.shape[-2] if piece.dim() == 4 else 1)


def _target(spectrum: Tensor, piece: Tensor) -> Tensor:
    """``spectrum`` ``(B, K, width)`` viewed with the bin dims of ``piece``."""
    return spectrum.unflatten(-1, piece.shape[-2:]) if piece.dim() == 4 else spectrum


def kept_blocks(x: Tensor, layout: Layout, size: int) -> Tensor:
    """The kept bins of ``x`` ``(B, N, D)`` (AFNO's hidden order) as complex blocks
    ``(modes_hidden // size, B, K, size)``."""
    half = torch.fft.rfft(x, dim=2, norm="ortho")[..., : layout.columns]
    spectrum = torch.fft.fft(half, dim=1, norm="ortho")
    direct = spectrum[:, : layout.kept, : layout.positive]
    # bin -m of row k is conj(bin m of row -k): rows 0, N-1, .., N-K+1 and columns M .. 1
    columns = spectrum[..., 1 : layout.negative + 1]
    first, rest = columns[:, :1].flip(2), columns[:, layout.n - layout.kept + 1 :].flip((1, 2))
    mirrored = torch.cat((first, rest), dim=1).conj()
    return _join_blocks(direct, mirrored, size)


def from_kept_blocks(blocks: Tensor, layout: Layout) -> Tensor:
    """``irfft_seq(ifft_hid(Y))`` (both orthonormal) of the kept bins ``Y`` given as
    :func:`kept_blocks` does, every other bin zero: ``(B, N, D)``."""
    batch, kept = blocks.shape[1:3]
    # (B, N, J) viewed on (B, J, N) memory: the ifft below runs along a contiguous axis
    # (torch would otherwise copy the whole spectrum to that layout first).
    spectrum = blocks.new_zeros(batch, layout.columns, layout.n).transpose(1, 2)
    ends = layout.positive + layout.negative  # bin j < ends mirrors to column ends - j
    for start, piece in _bins(blocks, layout.direct, layout.modes_hidden):
        columns = slice(ends - start - _width(piece) + 1, ends - start + 1)
        bins = tuple(range(2, piece.dim()))  # flipped: columns ascend as bins descend
        mirrored = piece.conj()
        first = mirrored[:, 0].flip(tuple(dim - 1 for dim in bins))
        _target(spectrum[:, 0, columns], piece).copy_(first)
        rows = spectrum[:, layout.n - kept + 1 :, columns]
        _target(rows, piece).copy_(mirrored[:, 1:].flip((1, *bins)))
    for start, piece in _bins(blocks, 0, layout.direct):
        _target(spectrum[:, :kept, start : start + _width(piece)], piece).add_(piece)
    spectrum[:, :kept, 0] *= 2  # self-conjugate columns: twice the kept value
    if layout.nyquist:
        spectrum[:, :kept, layout.positive] *= 2
    spectrum[:, 0] *= 0.5  # irfft weighs the DC and Nyquist rows 1, the others 2
    if layout.nyquist_row:
        spectrum[:, layout.n // 2] *= 0.5
    spectrum = torch.fft.ifft(spectrum, dim=1, norm="ortho")
    return torch.fft.irfft(spectrum, n=layout.hidden_dim, dim=2, norm="ortho")


__all__ = ["Layout", "from_kept_blocks", "kept_blocks"]
