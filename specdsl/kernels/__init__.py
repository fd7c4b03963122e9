"""Random-feature and spectral kernels for linear attention.

Every kernel is an ``nn.Module`` working on batched inputs ``(..., n, d)`` with
``compute(x, y)`` (exact kernel matrix) and, for :class:`FeatureKernel` subclasses, a
feature map ``forward(x)`` plus ``kernel_approximation`` and ``compute_attention``.
See ``docs/kernels.md`` for formulas, costs and conventions.
"""

from .attention import KERNEL_TYPES, RFFAttentionKernel
from .base import FeatureKernel, KernelFunction
from .polynomial import CosineKernel, PolynomialKernel, PolynomialSpectralKernel
from .random_features import GaussianRFFKernel, LaplacianRFFKernel, OrthogonalRandomFeatures
from .spectral import FourierKernel, LearnableSpectralKernel, TruncatedSVDKernel

__all__ = [
    "KERNEL_TYPES",
    "CosineKernel",
    "FeatureKernel",
    "FourierKernel",
    "GaussianRFFKernel",
    "KernelFunction",
    "LaplacianRFFKernel",
    "LearnableSpectralKernel",
    "OrthogonalRandomFeatures",
    "PolynomialKernel",
    "PolynomialSpectralKernel",
    "RFFAttentionKernel",
    "TruncatedSVDKernel",
]
