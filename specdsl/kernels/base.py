"""Base classes and argument checks shared by every kernel in :mod:`specdsl.kernels`.

Two abstract classes are defined here:

* :class:`KernelFunction` -- anything with an exact ``compute(x, y)``;
* :class:`FeatureKernel` -- a kernel that also has a (random or learnable) feature map
  ``phi`` and therefore supports ``kernel_approximation`` and linear-time attention.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn

__all__ = [
    "FeatureKernel",
    "KernelFunction",
    "as_float",
    "check_finite_float",
    "check_positive_float",
    "check_positive_int",
    "like",
    "squared_distances",
]


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` as an ``int`` or raise ``ValueError`` unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_finite_float(name: str, value: object, *, minimum: float | None = None) -> float:
    """Return ``value`` as a finite ``float``; optionally require ``value >= minimum``."""
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and (minimum is None or number >= minimum):
            return number
    bound = "" if minimum is None else f" >= {minimum}"
    raise ValueError(f"{name} must be a finite number{bound}, got {value!r}")


def check_positive_float(name: str, value: object) -> float:
    """Return ``value`` as a ``float`` or raise ``ValueError`` unless it is finite and > 0."""
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number) and number > 0:
            return number
    raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def as_float(x: Tensor) -> Tensor:
    """Promote integer/bool tensors to the default float dtype; keep float dtypes as is."""
    x = torch.as_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def like(t: Tensor, x: Tensor) -> Tensor:
    """Cast a stored tensor (parameter or buffer) to the dtype and device of the input."""
    return t.to(dtype=x.dtype, device=x.device)


def squared_distances(x: Tensor, y: Tensor) -> Tensor:
    """Pairwise ``||x_i - y_j||^2`` of shape ``(..., n, m)`` without an ``(n, m, d)`` buffer."""
    sq = x.pow(2).sum(-1).unsqueeze(-1) + y.pow(2).sum(-1).unsqueeze(-2) - 2.0 * (x @ y.mT)
    return sq.clamp_min(0.0)


class KernelFunction(nn.Module, ABC):
    """A positive-definite kernel ``k(x, y)`` on batched inputs of shape ``(..., n, d)``.

    Attributes
    ----------
    input_dim : int or None
        Expected size of the last input dimension (``None``: any width is accepted).
    """

    input_dim: int | None = None

    @abstractmethod
    def compute(self, x: Tensor, y: Tensor) -> Tensor:
        """Exact kernel matrix ``K[..., i, j] = k(x_i, y_j)`` of shape ``(..., n, m)``."""

    def gram_matrix(self, x: Tensor) -> Tensor:
        """Exact Gram matrix ``compute(x, x)`` of shape ``(..., n, n)``."""
        return self.compute(x, x)

    def is_positive_definite(self, x: Tensor, tol: float = 1e-6) -> bool:
        """Whether every eigenvalue of the (symmetrised) Gram matrix of ``x`` is ``>= -tol``."""
        gram = self.gram_matrix(x).detach()
        gram = 0.5 * (gram + gram.mT)
        return bool((torch.linalg.eigvalsh(gram) >= -tol).all())

    def _check_input(self, x: Tensor, name: str = "x") -> Tensor:
        x = as_float(x)
        if x.dim() < 2:
            raise ValueError(f"{name} must have shape (..., n, d), got {tuple(x.shape)}")
        if self.input_dim is not None and x.shape[-1] != self.input_dim:
            raise ValueError(
                f"{name} last dimension must equal input_dim={self.input_dim}, got {x.shape[-1]}"
            )
        return x

    def _register_tensor(self, name: str, value: Tensor | None, trainable: bool) -> None:
        """Register ``value`` as an ``nn.Parameter`` if ``trainable`` else as a buffer."""
        if trainable and value is not None:
            self.register_parameter(name, nn.Parameter(value))
        else:
            self.register_buffer(name, value)


class FeatureKernel(KernelFunction):
    """A kernel with a feature map ``phi`` such that ``k(x, y) ~= phi(x) . phi(y)``.

    Subclasses implement :meth:`_feature_map`, which may return features up to a
    positive scale ``exp(log_scale)`` (used by FAVOR+ for numerical stabilisation);
    the scale is re-applied by :meth:`kernel_approximation` and cancels in
    :meth:`compute_attention`.
    """

    @property
    @abstractmethod
    def num_features_out(self) -> int | None:
        """Width of ``phi(x)`` (``None`` when it depends on the input width)."""

    @abstractmethod
    def _feature_map(
        self, x: Tensor, is_query: bool | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """Return ``(features, log_scale)`` with ``phi(x) = features * exp(log_scale)``.

        ``is_query`` is ``None`` for the plain map, ``True``/``False`` for the
        query/key side of an attention product; ``mask`` is the key mask, if any.
        """

    def _maybe_redraw(self) -> None:
        """Hook called once per public call (before any feature is computed)."""

    def forward(self, x: Tensor, is_query: bool | None = None) -> Tensor:
        """Feature map ``phi(x)`` of shape ``(..., n, num_features_out)``.

        With ``is_query`` set, kernels that stabilise their features (FAVOR+) return them
        up to a positive scale: per row for queries, one scale per batch for keys.
        """
        x = self._check_input(x)
        self._maybe_redraw()
        return self._feature_map(x, is_query, None)[0]

    def extract_features(self, x: Tensor, is_query: bool | None = None) -> Tensor:
        """Alias of :meth:`forward`."""
        return self.forward(x, is_query)

    def kernel_approximation(self, x: Tensor, y: Tensor) -> Tensor:
        """Feature-based estimate ``phi(x) @ phi(y)^T`` of shape ``(..., n, m)``."""
        x, y = self._check_input(x, "x"), self._check_input(y, "y")
        self._maybe_redraw()
        fx, sx = self._feature_map(x, True, None)
        fy, sy = self._feature_map(y, False, None)
        approx = fx @ fy.mT
        if sx is not None and sy is not None:
            approx = approx * torch.exp(sx + sy.mT)
        return approx

    def compute_attention(
        self,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        mask: Tensor | None = None,
        causal: bool = False,
        eps: float = 1e-12,
    ) -> Tensor:
        """Linear attention ``phi(q) (phi(k)^T v) / phi(q) (phi(k)^T 1)`` in ``O(n F d_v)``.

        Parameters
        ----------
        q : Tensor
            Queries ``(..., n, d)``.
        k : Tensor
            Keys ``(..., m, d)``.
        v : Tensor
            Values ``(..., m, d_v)``.
        mask : Tensor, optional
            Boolean key mask ``(..., m)``; ``True`` keeps a key, ``False`` removes it.
        causal : bool
            If ``True`` (requires ``n == m``), query ``i`` only attends to keys ``j <= i``;
            computed with a prefix sum of ``phi(k_j) v_j^T`` (memory ``O(n F d_v)``).
        eps : float
            Denominators are kept at least ``eps`` away from zero.

        Returns
        -------
        Tensor
            ``(..., n, d_v)``. The ``n x m`` attention matrix is never formed.
        """
        q, k = self._check_input(q, "q"), self._check_input(k, "k")
        v = as_float(v)
        dtype = torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
        q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
        if v.dim() < 2 or v.shape[-2] != k.shape[-2]:
            raise ValueError(f"v must have shape (..., m={k.shape[-2]}, d_v), got {tuple(v.shape)}")
        if causal and q.shape[-2] != k.shape[-2]:
            raise ValueError("causal=True requires as many queries as keys")
        if mask is not None:
            mask = torch.as_tensor(mask, device=k.device).to(torch.bool)
            if mask.dim() < 1 or mask.shape[-1] != k.shape[-2]:
                raise ValueError(
                    f"mask must have shape (..., m={k.shape[-2]}), got {tuple(mask.shape)}"
                )
        self._maybe_redraw()
        phi_q = self._feature_map(q, True, None)[0]
        phi_k = self._feature_map(k, False, mask)[0]
        if mask is not None:
            phi_k = phi_k * mask.unsqueeze(-1).to(phi_k.dtype)
        if causal:
            kv = torch.cumsum(phi_k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)
            num = (phi_q.unsqueeze(-2) @ kv).squeeze(-2)
            den = (phi_q * torch.cumsum(phi_k, dim=-2)).sum(-1, keepdim=True)
        else:
            num = phi_q @ (phi_k.mT @ v)
            den = phi_q @ phi_k.sum(-2).unsqueeze(-1)
        den = torch.where(den >= 0, den.clamp_min(eps), den.clamp_max(-eps))
        return num / den
