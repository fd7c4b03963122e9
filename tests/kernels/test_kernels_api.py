"""Construction, seeding, parameter/buffer registration, validation and dtypes."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from specdsl.kernels import (
    CosineKernel,
    FeatureKernel,
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

SEEDED = {
    "gaussian": lambda s: GaussianRFFKernel(D, 12, seed=s),
    "gaussian-orth-cos-sin": lambda s: GaussianRFFKernel(
        D, 12, orthogonal=True, use_cos_sin=True, seed=s
    ),
    "orf": lambda s: OrthogonalRandomFeatures(D, 12, seed=s),
    "laplacian": lambda s: LaplacianRFFKernel(D, 12, seed=s),
    "favor": lambda s: RFFAttentionKernel(D, 12, seed=s),
    "favor-relu-iid": lambda s: RFFAttentionKernel(D, 12, "relu", use_orthogonal=False, seed=s),
    "poly-spectral": lambda s: PolynomialSpectralKernel(D, 2, seed=s),
    "svd": lambda s: TruncatedSVDKernel(D, 3, seed=s),
    "learnable-spectral": lambda s: LearnableSpectralKernel(D, 3, seed=s),
    "fourier": lambda s: FourierKernel(D, 12, seed=s),
}


def _x(dtype=torch.float32) -> torch.Tensor:
    return torch.randn(2, 5, D, generator=torch.Generator().manual_seed(0), dtype=dtype)


@pytest.mark.parametrize("name", list(SEEDED))
def test_seed_determinism_and_global_rng_untouched(name: str) -> None:
    factory = SEEDED[name]
    state = torch.get_rng_state()
    a, b, c = factory(3), factory(3), factory(4)
    assert torch.equal(state, torch.get_rng_state())
    x = _x()
    assert torch.equal(a(x), b(x))
    assert not torch.equal(a(x), c(x))
    sa, sc = a.state_dict(), c.state_dict()
    assert sa.keys() == sc.keys() and sa
    c.load_state_dict(sa)
    assert torch.equal(a(x), c(x))
    assert torch.equal(copy.deepcopy(a)(x), a(x))


@pytest.mark.parametrize("name", list(SEEDED))
def test_feature_width_and_float64_promotion(name: str) -> None:
    kernel = SEEDED[name](0)
    x32 = _x()
    x64 = x32.double()
    feats = kernel(x64)
    assert feats.dtype == torch.float64
    assert feats.shape == (2, 5, kernel.num_features_out)
    assert kernel.extract_features(x64).shape == feats.shape
    torch.testing.assert_close(feats.float(), kernel(x32), rtol=1e-4, atol=1e-5)
    assert kernel(x32).dtype == torch.float32
    for out in (
        kernel.compute(x64, x64),
        kernel.kernel_approximation(x64, x64),
        kernel.compute_attention(x64, x64, x64),
        kernel.compute_attention(x32, x32, x64, causal=True),
    ):
        assert out.dtype == torch.float64
    assert kernel(x64.to(torch.int64)).dtype == torch.get_default_dtype()


def test_trainable_flag_registers_parameters_or_buffers() -> None:
    for trainable in (False, True):
        for kernel in (
            GaussianRFFKernel(D, 8, trainable=trainable, seed=0),
            LaplacianRFFKernel(D, 8, trainable=trainable, seed=0),
            OrthogonalRandomFeatures(D, 8, trainable=trainable, seed=0),
            FourierKernel(D, 8, trainable=trainable, seed=0),
        ):
            params = dict(kernel.named_parameters())
            buffers = dict(kernel.named_buffers())
            names = {"frequencies", "logits"} if isinstance(kernel, FourierKernel) else None
            names = names or {"omega", "bias"}
            assert set(params if trainable else buffers) == names
            assert not (buffers if trainable else params)
    cos_sin = GaussianRFFKernel(D, 8, use_cos_sin=True, trainable=True)
    assert set(dict(cos_sin.named_parameters())) == {"omega"} and cos_sin.bias is None
    favor = RFFAttentionKernel(D, 8)
    assert not list(favor.parameters()) and "omega" in dict(favor.named_buffers())
    assert RFFAttentionKernel(D, 8, "elu").omega is None
    for kernel in (TruncatedSVDKernel(D, 2), LearnableSpectralKernel(D, 2)):
        assert all(isinstance(p, nn.Parameter) for p in kernel.parameters())
    assert isinstance(LearnableSpectralKernel(D, 2).eigenvectors, nn.Parameter)


def test_trainable_features_receive_gradients() -> None:
    kernel = GaussianRFFKernel(D, 8, trainable=True, seed=0)
    kernel(_x()).sum().backward()
    assert kernel.omega.grad is not None and kernel.bias.grad is not None


def test_orthogonal_frequencies_are_orthogonal_within_blocks() -> None:
    kernel = OrthogonalRandomFeatures(D, 10, sigma=2.0, seed=0)
    omega = kernel.omega.double() * 2.0
    for start in range(0, 10, D):
        block = omega[:, start : start + D]
        gram = block.mT @ block
        torch.testing.assert_close(gram, torch.diag(torch.diagonal(gram)), atol=1e-5, rtol=0)
    plain = GaussianRFFKernel(D, 10, seed=0).omega
    assert plain.shape == omega.shape == (D, 10)
    favor = RFFAttentionKernel(D, 4, seed=0).omega.double()
    gram = favor.mT @ favor
    torch.testing.assert_close(gram, torch.diag(torch.diagonal(gram)), atol=1e-5, rtol=0)


def test_orthogonalize_eigenvectors_in_place() -> None:
    kernel = LearnableSpectralKernel(D, 3, seed=0)
    with torch.no_grad():
        kernel.eigenvectors.add_(0.5 * torch.randn(D, 3, generator=torch.Generator()))
    param = kernel.eigenvectors
    kernel.orthogonalize_eigenvectors()
    assert kernel.eigenvectors is param
    eye = torch.eye(3)
    torch.testing.assert_close(param.detach().mT @ param.detach(), eye, atol=1e-5, rtol=0)
    assert param.requires_grad


def test_truncated_svd_from_matrix_and_orthonormal_basis() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(D, D, generator=g, dtype=torch.float64)
    matrix = a @ a.mT
    kernel = TruncatedSVDKernel.from_matrix(matrix, rank=D).double()
    torch.testing.assert_close(kernel.matrix(), matrix, rtol=1e-5, atol=1e-5)
    x = torch.randn(3, D, generator=g, dtype=torch.float64)
    torch.testing.assert_close(kernel.compute(x, x), x @ matrix @ x.mT, rtol=1e-5, atol=1e-5)
    low = TruncatedSVDKernel.from_matrix(matrix, rank=2)
    evals = torch.linalg.eigvalsh(matrix)
    torch.testing.assert_close(low.singular_values.double(), evals.flip(0)[:2], rtol=1e-5, atol=0)
    with torch.no_grad():
        low.factor.add_(0.3)
    basis = low.basis
    torch.testing.assert_close(basis.mT @ basis, torch.eye(2), atol=1e-5, rtol=0)


def test_feature_kernels_share_the_base_api() -> None:
    for factory in SEEDED.values():
        assert isinstance(factory(0), FeatureKernel)
    for kernel in (PolynomialKernel(), CosineKernel()):
        assert isinstance(kernel, FeatureKernel) and kernel.num_features_out is None
    assert PolynomialKernel(3, input_dim=D).num_features_out == (D + 1) ** 3
    assert PolynomialKernel(2, coef0=0.0, input_dim=D).num_features_out == D**2
    assert CosineKernel(input_dim=D).num_features_out == D


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: GaussianRFFKernel(D, 0), r"num_features must be an integer >= 1"),
        (lambda: GaussianRFFKernel(D, -3), r"num_features must be an integer >= 1"),
        (lambda: GaussianRFFKernel(D, 2.5), r"num_features must be an integer >= 1"),
        (lambda: GaussianRFFKernel(0, 8), r"input_dim must be an integer >= 1"),
        (lambda: GaussianRFFKernel(D, 8, sigma=0.0), r"sigma must be a finite number > 0"),
        (lambda: GaussianRFFKernel(D, 8, sigma=-1), r"sigma must be a finite number > 0"),
        (lambda: LaplacianRFFKernel(D, 0), r"num_features must be an integer >= 1"),
        (lambda: LaplacianRFFKernel(D, 8, sigma=-2), r"sigma must be a finite number > 0"),
        (lambda: OrthogonalRandomFeatures(D, 8, sigma=float("nan")), r"sigma must be"),
        (lambda: GaussianRFFKernel(D, 8, seed=1.5), r"seed must be an integer or None"),
        (lambda: RFFAttentionKernel(D, 0), r"num_features must be an integer >= 1"),
        (lambda: RFFAttentionKernel(D, 8, "cosh"), r"kernel_type must be one of .*softmax"),
        (lambda: PolynomialKernel(0), r"degree must be an integer >= 1"),
        (lambda: PolynomialKernel(1.5), r"degree must be an integer >= 1"),
        (lambda: PolynomialKernel(2, alpha=float("inf")), r"alpha must be a finite number"),
        (lambda: PolynomialSpectralKernel(D, 2, degree=0), r"degree must be an integer >= 1"),
        (lambda: PolynomialSpectralKernel(D, 5), r"rank must be in \[1, input_dim=4\]"),
        (lambda: PolynomialSpectralKernel(D, 2, coef0=-1), r"coef0 must be a finite number >= 0"),
        (lambda: TruncatedSVDKernel(D, 0), r"rank must be an integer >= 1"),
        (lambda: LearnableSpectralKernel(D, 2, init_eigenvalue=0), r"init_eigenvalue must"),
        (lambda: FourierKernel(D, 0), r"num_features must be an integer >= 1"),
        (lambda: FourierKernel(D, 4, sigma=0), r"sigma must be a finite number > 0"),
    ],
)
def test_bad_arguments_raise_value_error(factory, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        factory()


def test_bad_inputs_raise_value_error() -> None:
    kernel = GaussianRFFKernel(D, 8, seed=0)
    with pytest.raises(ValueError, match="input_dim=4"):
        kernel(torch.randn(3, D + 1))
    with pytest.raises(ValueError, match=r"\(\.\.\., n, d\)"):
        kernel.compute(torch.randn(D), torch.randn(2, D))
