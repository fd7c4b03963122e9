"""FAVOR+ positive random features for softmax attention (Choromanski et al. 2021)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import FeatureKernel, check_positive_int, like
from .sampling import gaussian_matrix, make_generator, orthogonal_gaussian_matrix

__all__ = ["KERNEL_TYPES", "RFFAttentionKernel"]

KERNEL_TYPES = ("softmax", "relu", "elu")


class RFFAttentionKernel(FeatureKernel):
    """Feature maps for linear attention (Performer FAVOR+, ReLU features, ELU+1).

    ``kernel_type`` selects the kernel and its feature map (``omega ~ N(0, I)``, shape
    ``(d, m)``, orthogonal blocks with chi norms when ``use_orthogonal``):

    * ``"softmax"``: ``k(x, y) = exp(x . y)``,
      ``phi(x) = exp(x omega - ||x||^2 / 2) / sqrt(m)`` (positive, unbiased);
    * ``"relu"``: ``phi(x) = relu(x omega) / sqrt(m)`` whose expectation is the
      first-order arc-cosine kernel ``||x|| ||y|| (sin t + (pi - t) cos t) / (2 pi)``,
      ``t`` the angle between ``x`` and ``y``;
    * ``"elu"``: deterministic ``phi(x) = elu(x) + 1`` (width ``d``), ``k = phi(x) . phi(y)``.

    For standard attention ``softmax(q k^T / sqrt(d))`` scale ``q`` and ``k`` by
    ``d ** -0.25`` before calling.

    Parameters
    ----------
    input_dim : int
        Query/key width ``d``.
    num_features : int
        Number of random features ``m`` (ignored by ``"elu"``).
    kernel_type : {"softmax", "relu", "elu"}
        Kernel to approximate.
    use_orthogonal : bool
        Draw orthogonal random features.
    redraw : bool
        Redraw ``omega`` at each public call (``forward``, ``kernel_approximation``,
        ``compute_attention``) while in training mode.
    seed : int, optional
        Seed of a local generator used for the initial draw and every redraw.

    Notes
    -----
    Softmax features are stabilised in log space when used on the query/key side: the
    row maximum of the log-features is subtracted for each query and a single maximum over
    all (unmasked) keys and features for the keys. Both factors are constant along the
    summation of the attention ratio, so they cancel exactly; ``kernel_approximation``
    multiplies them back.
    """

    input_dim: int  # always set (the base class allows None)
    omega: Tensor | None

    def __init__(
        self,
        input_dim: int,
        num_features: int,
        kernel_type: str = "softmax",
        use_orthogonal: bool = True,
        redraw: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.num_features = check_positive_int("num_features", num_features)
        if kernel_type not in KERNEL_TYPES:
            raise ValueError(f"kernel_type must be one of {KERNEL_TYPES}, got {kernel_type!r}")
        self.kernel_type = kernel_type
        self.use_orthogonal = bool(use_orthogonal)
        self.redraw = bool(redraw)
        self.seed = seed
        self._generator = make_generator(seed)
        omega = None if kernel_type == "elu" else self._draw()
        self.register_buffer("omega", omega)

    def _draw(self) -> Tensor:
        sampler = orthogonal_gaussian_matrix if self.use_orthogonal else gaussian_matrix
        omega = sampler(self.input_dim, self.num_features, self._generator)
        return omega.to(torch.get_default_dtype())

    @torch.no_grad()
    def redraw_features(self) -> None:
        """Draw a fresh ``omega`` in place (no-op for ``"elu"``)."""
        if self.omega is not None:
            self.omega.copy_(self._draw())

    def _maybe_redraw(self) -> None:
        if self.redraw and self.training:
            self.redraw_features()

    @property
    def num_features_out(self) -> int:
        return self.input_dim if self.kernel_type == "elu" else self.num_features

    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        if self.omega is None:
            return F.elu(x) + 1.0, None
        proj = x @ like(self.omega, x)
        scale = 1.0 / math.sqrt(self.num_features)
        if self.kernel_type == "relu":
            return F.relu(proj) * scale, None
        logits = proj - 0.5 * x.pow(2).sum(-1, keepdim=True)
        if is_query is None:
            return torch.exp(logits) * scale, None
        if is_query:
            stab = logits.detach().amax(dim=-1, keepdim=True)
        else:
            kept = logits.detach()
            if mask is not None:
                kept = torch.where(mask.unsqueeze(-1), kept, float("-inf"))
            stab = kept.amax(dim=(-2, -1), keepdim=True)
            stab = torch.where(torch.isfinite(stab), stab, torch.zeros_like(stab))
        return torch.exp(logits - stab) * scale, stab

    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        if self.kernel_type == "softmax":
            return torch.exp(x @ y.mT)
        if self.kernel_type == "elu":
            return (F.elu(x) + 1.0) @ (F.elu(y) + 1.0).mT
        nx = x.norm(dim=-1).unsqueeze(-1)
        ny = y.norm(dim=-1).unsqueeze(-2)
        norms = nx * ny
        cos = ((x @ y.mT) / norms.clamp_min(torch.finfo(x.dtype).tiny)).clamp(-1.0, 1.0)
        theta = torch.arccos(cos)
        return norms * (torch.sin(theta) + (math.pi - theta) * cos) / (2.0 * math.pi)

    def extra_repr(self) -> str:
        return (
            f"input_dim={self.input_dim}, num_features={self.num_features}, "
            f"kernel_type={self.kernel_type!r}, use_orthogonal={self.use_orthogonal}, "
            f"redraw={self.redraw}"
        )
