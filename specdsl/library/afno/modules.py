"""Adaptive Fourier Neural Operator (AFNO) token mixing: torch module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.library.afno import AFNOMixingConfig, afno_shape
from specdsl.library.afno._spectrum import Layout, from_kept_blocks, kept_blocks
from specdsl.library.fourier.checks import check_choice, check_dropout, check_int, check_positive

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "gelu": F.gelu,
    "relu": F.relu,
    "silu": F.silu,
    "tanh": torch.tanh,
}
SHRINK = 0.01  # soft-thresholding lambda (Guibas et al.)
INIT_SCALE = 0.02


def _interleaved_weight(weight: Tensor) -> Tensor:
    """``(2, G, c_in, c_out)`` real/imaginary weights -> ``(G, 2 c_in, 2 c_out)`` real
    matrices acting on interleaved ``(re, im)`` pairs: row ``(e, re)`` holds
    ``(W_re, W_im)[e]``, row ``(e, im)`` holds ``(-W_im, W_re)[e]``, columns ``(f, re/im)``."""
    real, imag = weight[0], weight[1]
    from_real = torch.stack((real, imag), dim=-1)
    from_imag = torch.stack((-imag, real), dim=-1)
    return torch.stack((from_real, from_imag), dim=2).flatten(-2).flatten(1, 2)


def _interleaved_bias(bias: Tensor) -> Tensor:
    """``(2, G, c)`` real/imaginary biases -> ``(G, 1, 2 c)`` interleaved ``(re, im)``."""
    return bias.permute(1, 2, 0).flatten(1).unsqueeze(1)


class AFNOMixing(nn.Module):
    """AFNO token mixing (Guibas et al., ICLR 2022) on ``(B, N, D)`` tokens.

    1. ``rfft`` over the sequence (``ortho``), keep the ``min(modes_seq, N//2+1)`` lowest
       frequencies;
    2. ``fft`` over the hidden axis, keep the ``modes_hidden`` lowest-|frequency| bins;
    3. split them into ``num_blocks`` blocks; in each, a complex two-layer MLP
       ``S(W2 act(W1 z + b1) + b2)`` shared by all retained sequence modes, ``act`` applied
       to the real and imaginary parts separately and ``S`` the soft-threshold
       (``softshrink``, lambda = 0.01) of both parts;
    4. zero every other bin, ``ifft`` over hidden, ``irfft`` over the sequence.

    No residual inside: the surrounding block adds its input. Weights are real pairs
    (``w1[0]`` real part, ``w1[1]`` imaginary part), so ``FlopCounterMode`` sees all
    the real work of the complex products. Steps 1, 2 and 4 are computed hidden axis
    first, by Hermitian symmetry (``specdsl.library.afno._spectrum``): the same values
    with about half the sequence-axis FFT work.

    Parameters
    ----------
    hidden_dim : int
        Model width ``D``.
    max_sequence_length : int
        The model's longest input; sets the default ``modes_seq``.
    modes_seq : int, optional
        Retained sequence frequencies, in ``[1, max_sequence_length // 2 + 1]``
        (default ``max_sequence_length // 2``).
    modes_hidden : int, optional
        Retained hidden frequencies, in ``[1, hidden_dim]`` (default ``hidden_dim // 2``).
    mlp_ratio : float
        MLP width per block = ``int(block_size * mlp_ratio)``.
    activation : {"gelu", "relu", "silu", "tanh"}
        MLP activation.
    dropout : float
        Dropout on the output.
    num_blocks : int, optional
        Blocks of the MLP; must divide ``modes_hidden`` (default ``gcd(8, modes_hidden)``).
    """

    def __init__(
        self,
        hidden_dim: int,
        max_sequence_length: int,
        modes_seq: int | None = None,
        modes_hidden: int | None = None,
        mlp_ratio: float = 2.0,
        activation: str = "gelu",
        dropout: float = 0.0,
        num_blocks: int | None = None,
    ):
        super().__init__()
        self.hidden_dim = check_int("hidden_dim", hidden_dim)
        self.max_sequence_length = check_int("max_sequence_length", max_sequence_length)
        for name, value in (
            ("modes_seq", modes_seq),
            ("modes_hidden", modes_hidden),
            ("num_blocks", num_blocks),
        ):
            if value is not None:
                check_int(name, value)
        self.mlp_ratio = check_positive("mlp_ratio", mlp_ratio)
        self.modes_seq, self.modes_hidden, self.num_blocks, width = afno_shape(
            hidden_dim, max_sequence_length, modes_seq, modes_hidden, num_blocks, mlp_ratio
        )
        self.block_size = self.modes_hidden // self.num_blocks
        self.block_hidden = width
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.dropout = nn.Dropout(check_dropout(dropout))
        blocks, size = self.num_blocks, self.block_size
        self.w1 = nn.Parameter(INIT_SCALE * torch.randn(2, blocks, size, width))
        self.b1 = nn.Parameter(INIT_SCALE * torch.randn(2, blocks, width))
        self.w2 = nn.Parameter(INIT_SCALE * torch.randn(2, blocks, width, size))
        self.b2 = nn.Parameter(INIT_SCALE * torch.randn(2, blocks, size))

    @classmethod
    def from_config(cls, config: AFNOMixingConfig) -> Self:
        """Build the module from its validated config."""
        return cls(**config.model_dump())

    def block_mlp(self, blocks: Tensor) -> Tensor:
        """The shrunk block MLP of complex modes laid out as blocks
        ``(num_blocks, ..., block_size)``; returns the same layout.

        Runs on interleaved ``(re, im)`` pairs: each layer is one batched product per block
        (``torch.baddbmm``, bias included) with :func:`_interleaved_weight` matrices.
        """
        dtype = blocks.real.dtype
        pairs = torch.view_as_real(blocks.contiguous()).view(
            self.num_blocks, -1, 2 * self.block_size
        )
        hidden = torch.baddbmm(
            _interleaved_bias(self.b1.to(dtype)), pairs, _interleaved_weight(self.w1.to(dtype))
        )
        hidden = ACTIVATIONS[self.activation](hidden)
        out = torch.baddbmm(
            _interleaved_bias(self.b2.to(dtype)), hidden, _interleaved_weight(self.w2.to(dtype))
        )
        out = F.softshrink(out, SHRINK).view(*blocks.shape, 2)
        return torch.view_as_complex(out)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix ``x`` ``(B, N, D)``; ``mask`` is unused (padded positions arrive zeroed)."""
        n = x.shape[1]
        layout = Layout(n, self.hidden_dim, min(self.modes_seq, n // 2 + 1), self.modes_hidden)
        mixed = self.block_mlp(kept_blocks(x, layout, self.block_size))
        return self.dropout(from_kept_blocks(mixed, layout))


__all__ = ["AFNOMixing"]
