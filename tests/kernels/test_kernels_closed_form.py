"""``compute`` matches dense float64 references written with numpy/scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

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

D = 4


def _data(n: int = 6, m: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, D)), rng.standard_normal((m, D))


def _arccos1(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.zeros((len(x), len(y)))
    for i, a in enumerate(x):
        for j, b in enumerate(y):
            na, nb = np.linalg.norm(a), np.linalg.norm(b)
            t = math.acos(np.clip(a @ b / (na * nb), -1.0, 1.0))
            out[i, j] = na * nb * (math.sin(t) + (math.pi - t) * math.cos(t)) / (2 * math.pi)
    return out


def _elu1(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z + 1.0, np.exp(z))


def _cases():
    """(kernel, reference(x, y) -> ndarray) pairs."""
    poly_spec = PolynomialSpectralKernel(D, 3, degree=3, alpha=0.5, coef0=2.0, seed=1)
    p = poly_spec.projection.detach().double().numpy()
    svd = TruncatedSVDKernel(D, 3, seed=2)
    with torch.no_grad():
        svd.raw_singular_values.copy_(torch.tensor([0.3, -1.0, 2.0]))
        svd.factor.add_(0.3 * torch.randn(D, 3, generator=torch.Generator().manual_seed(0)))
    u = np.linalg.qr(svd.factor.detach().double().numpy())[0]
    s = np.log1p(np.exp(svd.raw_singular_values.detach().double().numpy()))
    spec = LearnableSpectralKernel(D, 2, init_eigenvalue=0.7, seed=3)
    v = spec.eigenvectors.detach().double().numpy()
    lam = np.log1p(np.exp(spec.raw_eigenvalues.detach().double().numpy()))
    four = FourierKernel(D, 6, sigma=0.8, seed=4)
    with torch.no_grad():
        four.logits.copy_(torch.arange(6.0) / 3)
    w = four.frequencies.detach().double().numpy()
    a = np.exp(four.logits.detach().double().numpy())
    a /= a.sum()

    def fourier_ref(x, y):
        diff = x[:, None, :] - y[None, :, :]
        return (np.cos(diff @ w) * a).sum(-1)

    return [
        (
            GaussianRFFKernel(D, 8, sigma=1.3),
            lambda x, y: np.exp(-cdist(x, y, "sqeuclidean") / 3.38),
        ),
        (
            OrthogonalRandomFeatures(D, 8, sigma=0.7),
            lambda x, y: np.exp(-(cdist(x, y) ** 2) / 0.98),
        ),
        (LaplacianRFFKernel(D, 8, sigma=2.0), lambda x, y: np.exp(-cdist(x, y, "cityblock") / 2)),
        (RFFAttentionKernel(D, 8), lambda x, y: np.exp(x @ y.T)),
        (RFFAttentionKernel(D, 8, kernel_type="relu"), _arccos1),
        (RFFAttentionKernel(D, 8, kernel_type="elu"), lambda x, y: _elu1(x) @ _elu1(y).T),
        (PolynomialKernel(3, alpha=0.5, coef0=2.0), lambda x, y: (0.5 * x @ y.T + 2.0) ** 3),
        (PolynomialKernel(1, alpha=-1.0, coef0=0.0), lambda x, y: -(x @ y.T)),
        (CosineKernel(), lambda x, y: 1 - cdist(x, y, "cosine")),
        (poly_spec, lambda x, y: (0.5 * (x @ p) @ (y @ p).T + 2.0) ** 3),
        (svd, lambda x, y: (x @ u) * s @ (y @ u).T),
        (spec, lambda x, y: (x @ v) * lam @ (y @ v).T),
        (four, fourier_ref),
    ]


CASES = _cases()
IDS = [f"{type(k).__name__}-{i}" for i, (k, _) in enumerate(CASES)]


@pytest.mark.parametrize(("kernel", "reference"), CASES, ids=IDS)
def test_compute_matches_dense_reference(kernel, reference) -> None:
    x, y = _data()
    got = kernel.compute(torch.from_numpy(x), torch.from_numpy(y))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.detach().numpy(), reference(x, y), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("kernel", "reference"), CASES, ids=IDS)
def test_compute_is_batched(kernel, reference) -> None:
    xs = np.stack([_data(seed=s)[0] for s in range(3)]).reshape(3, 1, 6, D)
    ys = np.stack([_data(seed=s)[1] for s in range(2)]).reshape(1, 2, 5, D)
    got = kernel.compute(torch.from_numpy(xs), torch.from_numpy(ys)).detach().numpy()
    assert got.shape == (3, 2, 6, 5)
    for i in range(3):
        for j in range(2):
            np.testing.assert_allclose(got[i, j], reference(xs[i, 0], ys[0, j]), rtol=1e-10)


@pytest.mark.parametrize(("kernel", "reference"), CASES, ids=IDS)
def test_gram_matrix_and_positive_definiteness(kernel, reference) -> None:
    x = torch.from_numpy(_data(n=8)[0])
    gram = kernel.gram_matrix(x)
    torch.testing.assert_close(gram, kernel.compute(x, x))
    torch.testing.assert_close(gram, gram.mT)
    psd = not (isinstance(kernel, PolynomialKernel) and kernel.alpha < 0)
    assert kernel.is_positive_definite(x, tol=1e-8) is psd


def test_exact_feature_maps_reproduce_compute() -> None:
    x, y = (torch.from_numpy(a) for a in _data())
    for kernel, _ in CASES:
        random = (GaussianRFFKernel, LaplacianRFFKernel, RFFAttentionKernel)
        if isinstance(kernel, random) and getattr(kernel, "kernel_type", None) != "elu":
            continue
        if isinstance(kernel, PolynomialKernel) and kernel.alpha < 0:
            with pytest.raises(ValueError, match="alpha >= 0"):
                kernel(x)
            continue
        approx = kernel.kernel_approximation(x, y)
        torch.testing.assert_close(approx, kernel.compute(x, y), rtol=1e-10, atol=1e-10)
        width = kernel.num_features_out
        assert width is None or kernel(x).shape[-1] == width
