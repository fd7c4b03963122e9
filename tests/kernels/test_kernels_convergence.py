"""Random-feature estimates converge to the exact kernel at the Monte-Carlo rate."""

from __future__ import annotations

import pytest
import torch

from specdsl.kernels import (
    GaussianRFFKernel,
    LaplacianRFFKernel,
    OrthogonalRandomFeatures,
    RFFAttentionKernel,
)

SIZES = (256, 1024, 4096)
SEEDS = (0, 1, 2)
D = 4


def _inputs(scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(24, D, generator=g, dtype=torch.float64)
    y = torch.randn(20, D, generator=g, dtype=torch.float64)
    return scale * x, scale * y


FACTORIES = {
    "gaussian-cos": (lambda m, s: GaussianRFFKernel(D, m, sigma=1.5, seed=s), 1.0),
    "gaussian-cos-sin": (
        lambda m, s: GaussianRFFKernel(D, m, sigma=1.5, use_cos_sin=True, seed=s),
        1.0,
    ),
    "gaussian-orth-cos": (
        lambda m, s: GaussianRFFKernel(D, m, sigma=1.5, orthogonal=True, seed=s),
        1.0,
    ),
    "gaussian-orth-cos-sin": (
        lambda m, s: GaussianRFFKernel(D, m, sigma=1.5, orthogonal=True, use_cos_sin=True, seed=s),
        1.0,
    ),
    "laplacian": (lambda m, s: LaplacianRFFKernel(D, m, sigma=2.0, seed=s), 1.0),
    "laplacian-cos-sin": (
        lambda m, s: LaplacianRFFKernel(D, m, sigma=2.0, use_cos_sin=True, seed=s),
        1.0,
    ),
    "orf": (lambda m, s: OrthogonalRandomFeatures(D, m, sigma=1.0, seed=s), 1.0),
    "favor-softmax": (lambda m, s: RFFAttentionKernel(D, m, use_orthogonal=False, seed=s), 0.3),
    "favor-softmax-orth": (lambda m, s: RFFAttentionKernel(D, m, seed=s), 0.3),
    "favor-relu": (lambda m, s: RFFAttentionKernel(D, m, kernel_type="relu", seed=s), 1.0),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_kernel_approximation_error_shrinks_like_inverse_sqrt(name: str) -> None:
    factory, scale = FACTORIES[name]
    x, y = _inputs(scale)
    errors = []
    for m in SIZES:
        errs = []
        for seed in SEEDS:
            kernel = factory(m, seed)
            exact = kernel.compute(x, y)
            errs.append((kernel.kernel_approximation(x, y) - exact).abs().mean().item())
        errors.append(sum(errs) / len(errs))
    assert errors[0] > errors[1] > errors[2], errors
    # 1/sqrt(m) predicts a ratio of 4 between m = 256 and m = 4096.
    assert errors[0] / errors[2] > 2.5, errors
    assert errors[2] < 0.05, errors


@pytest.mark.parametrize("orthogonal", [False, True])
def test_favor_attention_approaches_softmax_attention(orthogonal: bool) -> None:
    g = torch.Generator().manual_seed(7)
    q, k = (0.4 * torch.randn(2, 16, D, generator=g, dtype=torch.float64) for _ in range(2))
    v = torch.randn(2, 16, 3, generator=g, dtype=torch.float64)
    exact = torch.softmax(q @ k.mT, dim=-1) @ v
    causal_mask = torch.ones(16, 16, dtype=torch.bool).tril()
    exact_causal = torch.softmax((q @ k.mT).masked_fill(~causal_mask, float("-inf")), -1) @ v
    errors, errors_causal = [], []
    for m in SIZES:
        err = err_c = 0.0
        for seed in range(8):
            kernel = RFFAttentionKernel(D, m, use_orthogonal=orthogonal, seed=seed)
            err += (kernel.compute_attention(q, k, v) - exact).abs().mean().item()
            out_c = kernel.compute_attention(q, k, v, causal=True)
            err_c += (out_c - exact_causal).abs().mean().item()
        errors.append(err / 8)
        errors_causal.append(err_c / 8)
    for errs in (errors, errors_causal):
        assert errs[0] > errs[1] > errs[2], errs
        # Ratio estimators are noisier than plain kernel estimates: looser bound than 4.
        assert errs[0] / errs[2] > 2.0, errs
        assert errs[2] < 0.02, errs
