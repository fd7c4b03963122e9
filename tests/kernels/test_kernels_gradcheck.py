"""Float64 ``gradcheck`` of every kernel's ``compute``, feature map and attention."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck
from torch.func import functional_call

from specdsl.kernels import (
    CosineKernel,
    FourierKernel,
    GaussianRFFKernel,
    LaplacianRFFKernel,
    LearnableSpectralKernel,
    OrthogonalRandomFeatures,
    PolynomialKernel,
    PolynomialSpectralKernel,
    RFFAttentionKernel,
    TruncatedSVDKernel,
)

D = 3

FACTORIES = {
    "gaussian": lambda: GaussianRFFKernel(D, 5, sigma=0.9, seed=0),
    "gaussian-cos-sin-orth": lambda: GaussianRFFKernel(
        D, 5, use_cos_sin=True, orthogonal=True, seed=0
    ),
    "orf": lambda: OrthogonalRandomFeatures(D, 4, seed=1),
    "laplacian": lambda: LaplacianRFFKernel(D, 5, sigma=1.5, seed=2),
    "favor-softmax": lambda: RFFAttentionKernel(D, 5, seed=3),
    "favor-relu": lambda: RFFAttentionKernel(D, 5, kernel_type="relu", seed=4),
    "favor-elu": lambda: RFFAttentionKernel(D, 5, kernel_type="elu"),
    "polynomial": lambda: PolynomialKernel(3, alpha=0.5, coef0=1.0),
    "cosine": lambda: CosineKernel(),
    "poly-spectral": lambda: PolynomialSpectralKernel(D, 2, degree=2, seed=5),
    "svd": lambda: TruncatedSVDKernel(D, 2, seed=6),
    "learnable-spectral": lambda: LearnableSpectralKernel(D, 2, seed=7),
    "fourier": lambda: FourierKernel(D, 4, seed=8),
}


def _xy(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, D, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 4, D, generator=g, dtype=torch.float64, requires_grad=True)
    return x, y


@pytest.mark.parametrize("name", list(FACTORIES))
def test_gradcheck_compute_and_features(name: str) -> None:
    kernel = FACTORIES[name]()
    x, y = _xy()
    assert gradcheck(kernel.compute, (x, y))
    assert gradcheck(kernel.forward, (x,))


@pytest.mark.parametrize("name", ["favor-softmax", "favor-relu", "gaussian", "fourier"])
def test_gradcheck_attention(name: str) -> None:
    kernel = FACTORIES[name]()
    x, y = _xy()
    g = torch.Generator().manual_seed(1)
    v = torch.randn(2, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    k = (0.5 * torch.randn(2, 3, D, generator=g, dtype=torch.float64)).requires_grad_()
    mask = torch.tensor([True, False, True])
    q = (0.5 * x).detach().requires_grad_()
    assert gradcheck(lambda a, b, c: kernel.compute_attention(a, b, c, mask=mask), (q, k, v))
    assert gradcheck(lambda a, b, c: kernel.compute_attention(a, b, c, causal=True), (q, k, v))
    assert gradcheck(kernel.kernel_approximation, (x, y))


@pytest.mark.parametrize("name", ["poly-spectral", "svd", "learnable-spectral", "fourier"])
def test_gradcheck_learnable_parameters(name: str) -> None:
    kernel = FACTORIES[name]().double()
    x = _xy()[0].detach()
    names = [n for n, _ in kernel.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for _, p in kernel.named_parameters())

    def fn(*ps: torch.Tensor) -> torch.Tensor:
        return functional_call(kernel, dict(zip(names, ps, strict=True)), (x,))

    assert gradcheck(fn, params)


def test_gradcheck_trainable_frequencies() -> None:
    kernel = GaussianRFFKernel(D, 4, trainable=True, seed=0).double()
    x, _ = _xy()
    omega = kernel.omega.detach().clone().requires_grad_()
    bias = kernel.bias.detach().clone().requires_grad_()

    def fn(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return functional_call(kernel, {"omega": w, "bias": b}, (x.detach(),))

    assert gradcheck(fn, (omega, bias))
