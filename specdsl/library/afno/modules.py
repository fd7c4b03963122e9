"""Adaptive Fourier Neural Operator (AFNO) token mixing: torch module."""

from __future__ import annotations

from typing import Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from specdsl.library.afno import AFNOMixingConfig, afno_shape
from specdsl.library.fourier.checks import check_choice, check_dropout, check_int, check_positive
from specdsl.library.fourier.spectral import cached, pair_matmul

ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu, "silu": F.silu, "tanh": torch.tanh}
SHRINK = 0.01  # soft-thresholding lambda (Guibas et al.)
INIT_SCALE = 0.02


@cached
def hidden_modes(hidden_dim: int, kept: int, device: torch.device) -> Tensor:
    """The ``kept`` lowest-|frequency| bins of a length-``hidden_dim`` DFT:
    ``0 .. ceil(kept/2) - 1`` and ``hidden_dim - floor(kept/2) .. hidden_dim - 1``."""
    positive = torch.arange((kept + 1) // 2)
    negative = torch.arange(hidden_dim - kept // 2, hidden_dim)
    return torch.cat((positive, negative)).to(device)


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
    the real work of the complex products.

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

    def block_mlp(self, z: Tensor) -> Tensor:
        """The shrunk block MLP of complex modes ``z`` ``(..., modes_hidden)``."""
        shape = z.shape
        z = z.reshape(*shape[:-1], self.num_blocks, self.block_size)
        act = ACTIVATIONS[self.activation]
        dtype = z.real.dtype
        b1, b2 = self.b1.to(dtype), self.b2.to(dtype)
        real, imag = pair_matmul("...nk,nkh->...nh", z.real, z.imag, self.w1[0], self.w1[1])
        real, imag = act(real + b1[0]), act(imag + b1[1])
        real, imag = pair_matmul("...nh,nhk->...nk", real, imag, self.w2[0], self.w2[1])
        real = F.softshrink(real + b2[0], SHRINK)
        imag = F.softshrink(imag + b2[1], SHRINK)
        return torch.complex(real, imag).reshape(shape)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Mix ``x`` ``(B, N, D)``; ``mask`` is unused (padded positions arrive zeroed)."""
        n = x.shape[1]
        kept = min(self.modes_seq, n // 2 + 1)
        spectrum = torch.fft.rfft(x, dim=1, norm="ortho")[:, :kept]
        spectrum = torch.fft.fft(spectrum, dim=2, norm="ortho")
        index = hidden_modes(self.hidden_dim, self.modes_hidden, x.device)
        mixed = self.block_mlp(spectrum.index_select(2, index))
        spectrum = torch.zeros_like(spectrum).index_copy(2, index, mixed)
        spectrum = torch.fft.ifft(spectrum, dim=2, norm="ortho")
        return self.dropout(torch.fft.irfft(spectrum, n=n, dim=1, norm="ortho"))


__all__ = ["AFNOMixing"]
