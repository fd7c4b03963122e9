"""Linear spectral transform (LST) attention family: torch modules."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from specdsl.library.attention._shared import MultiHeadMixer, check_choice, check_int
from specdsl.library.lst import split_heads
from specdsl.library.lst._fast import project_out, project_rows
from specdsl.library.lst._grouped import grouped_forward
from specdsl.library.lst._mixing import SpectralProduct
from specdsl.library.lst._plan import plan_passes

LST_TYPES = ("dct", "dst", "hadamard", "mixed")


class SpectralProductAttention(MultiHeadMixer):
    """Base of the LST family: ``W_o (T^-1(T(q) * T(k) * T(v)) * scale)`` per head.

    ``T`` acts along the sequence; heads are split into contiguous groups, one transform
    each (``head_transforms`` lists them). ``scale`` is a learnable per-(head, channel)
    diagonal; as it is constant along the sequence it commutes with ``T``.

    Parameters
    ----------
    hidden_dim, num_heads, dropout, use_bias
        As for :class:`~specdsl.library.attention._shared.MultiHeadMixer`; dropout acts
        on the mixed heads before the output projection.
    groups : list of (kind, count)
        Head groups, kinds among ``dct``, ``dst``, ``hadamard``, ``fft``.
    learnable_scale : bool
        Learn ``scale`` (initialised to ones); otherwise no scale.
    normalize : bool
        Orthonormal transforms; otherwise the unnormalised forward and its exact inverse.
    causal : bool
        Output ``t`` is the layer's output with every position after ``t`` treated as
        padding: exactly causal, ``O(n^2)`` time per channel, ``O(n)`` memory kept for
        backward (:class:`~specdsl.library.lst._mixing.PrefixProduct`).
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int,
        groups: list[tuple[str, int]],
        learnable_scale: bool = True,
        normalize: bool = True,
        dropout: float = 0.0,
        use_bias: bool = True,
        causal: bool = False,
    ) -> None:
        super().__init__(hidden_dim, num_heads, dropout, use_bias=use_bias)
        self.learnable_scale = bool(learnable_scale)
        self.normalize = bool(normalize)
        self.causal = bool(causal)
        self.head_transforms = tuple(kind for kind, count in groups for _ in range(count))
        self.mixer = SpectralProduct(groups, self.normalize)
        self.groups = tuple(groups)
        self.scale = (
            nn.Parameter(torch.ones(num_heads, self.head_dim, 1)) if learnable_scale else None
        )

    def forward(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        return_attention: bool = False,
        token_order: str | None = None,
    ) -> Tensor | tuple[Tensor, None]:
        """Mix ``x`` ``(B, N, D)``; ``mask`` ``(B, N)`` (True = real) zeroes padded q, k, v.

        With ``token_order`` (``self.token_order(N)``), ``x`` and ``mask`` come in that
        order and the output is returned in it (:mod:`specdsl.compiler.token_order`).
        Returns ``(B, N, D)``, or ``(output, None)`` with ``return_attention`` (there is
        no attention matrix).
        """
        mask = self.check_input(x, mask)
        if token_order is not None and token_order != self.token_order(x.shape[1]):
            raise ValueError(
                f"token_order {token_order!r} is not this layer's order at length "
                f"{x.shape[1]} ({self.token_order(x.shape[1])!r})"
            )
        if self.causal:
            out = self._causal(x, mask)
        else:
            out = grouped_forward(self, x, mask, ordered=token_order is not None)
        return (out, None) if return_attention else out

    def token_order(self, n: int) -> str | None:
        """``"makhoul"`` when every head works in Makhoul's order at length ``n`` (one
        pass, see :mod:`specdsl.library.lst._plan`): the layer can then take its input and
        give its output in that order, without reordering either. None otherwise."""
        if self.causal:
            return None
        passes = plan_passes(self.groups, n)
        return "makhoul" if len(passes) == 1 and passes[0].makhoul else None

    def output_weights(self, dtype: torch.dtype) -> tuple[Tensor, Tensor | None]:
        """``W_o`` with the learnable scale folded into its columns, and ``b_o``.

        ``W_o (y * scale) = (W_o diag(scale)) y``: a ``D x D`` product instead of a pass over
        the activations (dropout, element-wise, commutes with the scale).
        """
        weight, bias = self.out_proj.weight, self.out_proj.bias
        if self.scale is not None:
            weight = weight * self.scale.reshape(1, -1)
        return weight.to(dtype), None if bias is None else bias.to(dtype)

    def _causal(self, x: Tensor, mask: Tensor | None) -> Tensor:
        """The causal layer (prefix operators, see :mod:`specdsl.library.lst._mixing`).

        q, k, v come out of one projection with the sequence last; each transform family's
        mixed heads go straight into their columns of ``W_o`` (no concatenation).
        """
        b, n, _ = x.shape
        qkv = project_rows(self.qkv.weight, self.qkv.bias, x)  # (3 H d, B, n)
        if mask is not None:  # in place: nothing keeps the projection yet
            qkv.mul_(mask.to(x.dtype))
        qkv = qkv.view(3, self.num_heads, self.head_dim, b, n)
        weight, bias = self.output_weights(x.dtype)
        out = None
        for family in self.mixer.families:  # at most three transform families
            y = self.output_dropout(self.mixer(qkv, family).view(-1, b * n)).mT  # (B n, c)
            w_out = weight[:, family.start * self.head_dim : family.stop * self.head_dim]
            out = project_out(out, bias if out is None else None, y, w_out)
        assert out is not None
        return out.view(b, n, -1)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, head_transforms={self.head_transforms}, causal={self.causal}"
        )


def _lst_groups(transform_type: str, num_heads: int) -> list[tuple[str, int]]:
    check_choice("transform_type", transform_type, LST_TYPES)
    if transform_type != "mixed":
        return [(transform_type, num_heads)]
    if num_heads < 3:
        raise ValueError(f"transform_type 'mixed' needs num_heads >= 3, got {num_heads!r}")
    return split_heads(("dct", "dst", "hadamard"), num_heads)


class LSTAttention(SpectralProductAttention):
    """Linear spectral transform attention ``W_o T^-1(T(q) * T(k) * T(v) * scale)``.

    Parameters
    ----------
    hidden_dim : int
        Model width, divisible by ``num_heads``.
    num_heads : int
        Number of heads.
    transform_type : {"dct", "dst", "hadamard", "mixed"}
        Transform along the sequence. Hadamard zero-pads a length that is not a power of
        two to the next one and crops the output back. ``"mixed"`` splits the heads into
        contiguous DCT, DST and Hadamard groups (sizes as even as possible, needs >= 3).
    learnable_scale : bool
        Learn a per-(head, channel) diagonal scale.
    normalize : bool
        Orthonormal transforms.
    dropout : float
        Dropout on the mixed heads.
    use_bias : bool
        Bias in the projections.
    causal : bool
        Exactly causal variant (``O(n^2)``), see :class:`SpectralProductAttention`.
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 8,
        transform_type: str = "dct",
        learnable_scale: bool = True,
        normalize: bool = True,
        dropout: float = 0.0,
        use_bias: bool = True,
        causal: bool = False,
    ) -> None:
        groups = _lst_groups(transform_type, check_int("num_heads", num_heads))
        super().__init__(
            hidden_dim, num_heads, groups, learnable_scale, normalize, dropout, use_bias, causal
        )
        self.transform_type = transform_type


class DCTAttention(LSTAttention):
    """LST attention with the orthonormal DCT-II on every head.

    Parameters
    ----------
    hidden_dim, num_heads, learnable_scale, dropout, causal
        As for :class:`LSTAttention`.
    dct_type : int
        DCT type; only 2 (DCT-II, inverse DCT-III) is supported.
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 8,
        dct_type: int = 2,
        learnable_scale: bool = True,
        dropout: float = 0.0,
        causal: bool = False,
    ) -> None:
        check_choice("dct_type", dct_type, (2,))
        super().__init__(hidden_dim, num_heads, "dct", learnable_scale, True, dropout, True, causal)
        self.dct_type = dct_type


class HadamardAttention(LSTAttention):
    """LST attention with the fast Walsh-Hadamard transform on every head.

    Parameters
    ----------
    hidden_dim, num_heads, learnable_scale, dropout, causal
        As for :class:`LSTAttention`.
    scale_by_sqrt : bool
        Scale the transform by ``1 / sqrt(m)`` (orthonormal); otherwise the unnormalised
        transform with its exact inverse ``H / m``.
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 8,
        scale_by_sqrt: bool = True,
        learnable_scale: bool = True,
        dropout: float = 0.0,
        causal: bool = False,
    ) -> None:
        super().__init__(
            hidden_dim, num_heads, "hadamard", learnable_scale, scale_by_sqrt, dropout, True, causal
        )
        self.scale_by_sqrt = bool(scale_by_sqrt)


class MixedSpectralAttention(SpectralProductAttention):
    """Spectral-product attention with heads split among the FFT, DCT and Hadamard.

    The real FFT head computes ``irfft(rfft(q) * rfft(k) * rfft(v))`` (a circular triple
    convolution); all transforms are orthonormal. No learnable scale.

    Parameters
    ----------
    hidden_dim : int
        Model width, divisible by ``num_heads``.
    num_heads : int
        Number of heads, at least the number of enabled transforms.
    use_fft, use_dct, use_hadamard : bool
        Enabled transforms, in this order; heads are split among them in contiguous
        groups, as evenly as possible.
    dropout : float
        Dropout on the mixed heads.
    causal : bool
        Exactly causal variant (``O(n^2)``).
    """

    def __init__(
        self,
        hidden_dim: int,
        num_heads: int = 9,
        use_fft: bool = True,
        use_dct: bool = True,
        use_hadamard: bool = True,
        dropout: float = 0.0,
        causal: bool = False,
    ) -> None:
        flags = (("fft", use_fft), ("dct", use_dct), ("hadamard", use_hadamard))
        kinds = tuple(kind for kind, on in flags if on)
        if not kinds:
            raise ValueError("enable at least one of use_fft, use_dct, use_hadamard")
        if check_int("num_heads", num_heads) < len(kinds):
            raise ValueError(
                f"num_heads must be >= {len(kinds)} (one per transform), got {num_heads}"
            )
        groups = split_heads(kinds, num_heads)
        super().__init__(hidden_dim, num_heads, groups, False, True, dropout, True, causal)
        self.use_fft, self.use_dct, self.use_hadamard = (
            bool(use_fft),
            bool(use_dct),
            bool(use_hadamard),
        )


__all__ = ["DCTAttention", "HadamardAttention", "LSTAttention", "MixedSpectralAttention"]
