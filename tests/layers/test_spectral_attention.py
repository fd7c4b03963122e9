"""Linear attention layers: dense kernel formulas, convergence to softmax, defaults, errors."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

import specdsl
from specdsl.library.spectral_attention import (
    PerformerAttentionConfig,
    SpectralAttentionConfig,
    SpectralKernelAttentionConfig,
)
from specdsl.library.spectral_attention.modules import (
    KernelAttention,
    LinearAttention,
    PerformerAttention,
    SpectralAttention,
)
from specdsl.testing import count_matmul_flops, held_for_backward


def split(layer: LinearAttention, x: torch.Tensor) -> list[torch.Tensor]:
    """q, k, v ``(B, H, N, d)`` from the layer's weights; q and k scaled by ``d^-1/4``."""
    b, n, _ = x.shape
    h, d = layer.num_heads, layer.head_dim
    qkv = F.linear(x, layer.qkv.weight.to(x.dtype), bias(layer.qkv, x.dtype))
    qkv = qkv.reshape(b, n, 3, h, d).permute(2, 0, 3, 1, 4)
    return [qkv[0] * d**-0.25, qkv[1] * d**-0.25, qkv[2]]


def bias(linear: torch.nn.Linear, dtype: torch.dtype) -> torch.Tensor | None:
    return None if linear.bias is None else linear.bias.to(dtype)


def positive(x: torch.Tensor, omega: torch.Tensor, norm_weight: float) -> torch.Tensor:
    """``exp(x omega - norm_weight ||x||^2) / sqrt(m)``."""
    return torch.exp(x @ omega - norm_weight * x.square().sum(-1, keepdim=True)) / math.sqrt(
        omega.shape[1]
    )


def dense_kernel(layer: LinearAttention, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The ``(B, H, N, N)`` matrix ``phi(q) phi(k)^T`` (exact kernel for polynomial)."""
    kernel = layer.kernel
    kind = getattr(
        layer, "kernel_type", "relu" if getattr(layer, "generalized", False) else "softmax"
    )
    if kind == "polynomial":
        p = kernel.projection
        return ((q @ p) @ (k @ p).transpose(-1, -2) + 1.0) ** 2
    if kind == "spectral":
        scale = F.softplus(kernel.metric.raw_eigenvalues).sqrt()
        q, k = (q @ kernel.metric.eigenvectors) * scale, (k @ kernel.metric.eigenvectors) * scale
        omega = kernel.features.omega
        return positive(q, omega, 0.5) @ positive(k, omega, 0.5).transpose(-1, -2)
    omega = kernel.omega
    if kind == "relu":
        phi_q, phi_k = (F.relu(z @ omega) / math.sqrt(omega.shape[1]) for z in (q, k))
    else:
        weight = 1.0 if kind == "gaussian" else 0.5
        phi_q, phi_k = positive(q, omega, weight), positive(k, omega, weight)
    return phi_q @ phi_k.transpose(-1, -2)


def dense_linear_attention(
    layer: LinearAttention, x: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``W_o (A v / A 1)`` with ``A = phi(q) phi(k)^T``, masked keys and causal triangle."""
    q, k, v = split(layer, x)
    weights = dense_kernel(layer, q, k)
    n = x.shape[1]
    if layer.causal:
        weights = weights * torch.ones(n, n, dtype=weights.dtype).tril()
    if mask is not None:
        weights = weights * mask[:, None, None, :]
    out = (weights @ v) / weights.sum(-1, keepdim=True).clamp_min(1e-12)  # as the layers
    out = out.transpose(1, 2).reshape(x.shape[0], n, -1)
    return F.linear(out, layer.out_proj.weight.to(x.dtype), bias(layer.out_proj, x.dtype))


LAYERS = {
    "softmax": lambda causal: SpectralAttention(12, 3, num_features=7, causal=causal),
    "gaussian": lambda causal: SpectralAttention(
        12, 2, head_dim=5, kernel_type="gaussian", causal=causal
    ),
    "performer": lambda causal: PerformerAttention(12, 3, causal=causal),
    "no-bias": lambda causal: SpectralAttention(12, 4, use_bias=False, causal=causal),
    "relu": lambda causal: PerformerAttention(
        12, 3, num_features=9, generalized=True, causal=causal
    ),
    "kernel-gaussian": lambda causal: KernelAttention(12, 3, causal=causal),
    "polynomial": lambda causal: KernelAttention(12, 3, "polynomial", rank=3, causal=causal),
    "spectral": lambda causal: KernelAttention(
        12, 3, "spectral", rank=2, num_features=5, causal=causal
    ),
}


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("name", list(LAYERS))
def test_equals_dense_kernel_formula(name: str, causal: bool) -> None:
    assert_matches_dense(LAYERS[name](causal).double(), n=10, padded_from=7)


def assert_matches_dense(layer: LinearAttention, n: int, padded_from: int) -> None:
    """``layer`` equals :func:`dense_linear_attention` in float64 on ``(2, n, 12)``, without
    a mask and with the second sequence's keys padded from ``padded_from`` on."""
    mask = torch.ones(2, n, dtype=torch.bool)
    mask[1, padded_from:] = False
    x = torch.randn(2, n, 12, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(
            layer(x), dense_linear_attention(layer, x), atol=1e-10, rtol=1e-9
        )
        expected = dense_linear_attention(layer, x, mask)
        torch.testing.assert_close(layer(x, mask=mask)[mask], expected[mask], atol=1e-10, rtol=1e-9)


def test_float32_weights_on_float64_inputs() -> None:
    """Both layouts compute in the input's dtype (float64 in, float32 weights)."""
    for causal in (False, True):
        layer = LAYERS["softmax"](causal)
        x = torch.randn(2, 9, 12, dtype=torch.float64)
        with torch.no_grad():
            out = layer(x)
            expected = dense_linear_attention(copy.deepcopy(layer).double(), x)
        assert out.dtype == torch.float64
        torch.testing.assert_close(out, expected, atol=1e-10, rtol=1e-9)


def exact_attention(layer: LinearAttention, x: torch.Tensor, kernel: str) -> torch.Tensor:
    """Exact softmax (or Gaussian-kernel) attention with the layer's projections."""
    q, k, v = split(layer, x)
    if kernel == "softmax":
        weights = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
    else:
        weights = torch.exp(-0.5 * torch.cdist(q, k).square())
        weights = weights / weights.sum(-1, keepdim=True)
    out = (weights @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
    return out @ layer.out_proj.weight.T + layer.out_proj.bias


@pytest.mark.parametrize("kernel", ["softmax", "gaussian"])
def test_random_features_approach_the_exact_kernel(kernel: str) -> None:
    x = 0.5 * torch.randn(2, 12, 8, dtype=torch.float64)
    base = SpectralAttention(8, 1, kernel_type=kernel).double()
    exact = exact_attention(base, x, kernel)
    errors = []
    for features in (4, 64, 1024):
        total = 0.0
        for seed in range(3):
            torch.manual_seed(seed)
            layer = SpectralAttention(8, 1, num_features=features, kernel_type=kernel).double()
            layer.load_state_dict(
                {
                    **layer.state_dict(),
                    **{k: v for k, v in base.state_dict().items() if "proj" in k or "qkv" in k},
                }
            )
            with torch.no_grad():
                total += (layer(x) - exact).norm().item() / exact.norm().item()
        errors.append(total / 3)
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[2] < 0.25 * errors[0], errors


def test_matmul_flops_grow_linearly_with_length() -> None:
    for layer in (LAYERS["softmax"](True), LAYERS["polynomial"](False), LAYERS["spectral"](False)):
        with torch.no_grad():
            short, long = (
                count_matmul_flops(lambda n=n, f=layer: f(torch.randn(1, n, 12))) for n in (64, 128)
            )
        assert long == 2 * short


def test_resolved_defaults_are_attributes() -> None:
    assert SpectralAttention(32, 4).num_features == 8
    wide = SpectralAttention(32, 5, head_dim=4, num_features=3)
    assert (wide.head_dim, wide.inner_dim, wide.num_features) == (4, 20, 3)
    assert wide.qkv.weight.shape == (60, 32) and wide.out_proj.weight.shape == (32, 20)
    assert SpectralAttentionConfig(hidden_dim=32, num_heads=5, head_dim=4).inner_dim == 20
    assert PerformerAttention(16, 4).num_features == 4
    assert (KernelAttention(16, 4).rank, KernelAttention(16, 4).num_features) == (None, 4)
    spectral = KernelAttention(16, 4, "spectral")
    assert (spectral.rank, spectral.num_features) == (4, 4)
    polynomial = KernelAttention(256, 2, "polynomial")
    assert (polynomial.rank, polynomial.num_features) == (64, 65**2)


def test_feature_redraw_only_while_training() -> None:
    layer = SpectralAttention(16, 4, feature_redraw=True).double()
    x = torch.randn(1, 6, 16, dtype=torch.float64)
    first = layer(x)
    assert not torch.allclose(first, layer(x))
    layer.eval()
    assert torch.equal(layer(x), layer(x))


def test_gaussian_features_are_positive() -> None:
    layer = SpectralAttention(16, 4, kernel_type="gaussian")
    features = layer.kernel(3 * torch.randn(2, 4, 9, 4), is_query=True)  # row-stabilised
    assert (features >= 0).all() and (features.sum(-1) > 0).all()


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: SpectralAttention(16, 4, kernel_type="gausian"), "kernel_type"),
        (lambda: SpectralAttention(16, 4, num_features=0), "num_features"),
        (lambda: SpectralAttention(16, 4, head_dim=0), "head_dim"),
        (lambda: PerformerAttention(16, 3), "num_heads"),
        (lambda: KernelAttention(16, 4, "gaussian", rank=2), "rank"),
        (lambda: KernelAttention(16, 4, "polynomial", num_features=3), "num_features"),
        (lambda: KernelAttention(16, 4, "spectral", rank=5), "rank"),
        (lambda: KernelAttention(16, 4, dropout=2), "dropout"),
    ],
)
def test_bad_constructor_arguments_name_the_argument(build, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        build()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            "kernel_attention(gaussian, rank=2)",
            "rank applies to kernel_type polynomial or spectral",
        ),
        ("kernel_attention(polynomial, num_features=3)", "set rank instead"),
        ("kernel_attention(spectral, rank=9)", "rank must be in [1, head_dim=4]"),
        ("performer(generalised=true)", "did you mean 'generalized'?"),
    ],
)
def test_bad_configs_are_spec_errors(call: str, message: str) -> None:
    with pytest.raises(specdsl.SpecError) as err:
        specdsl.parse(
            f'hidden_dim: 16\ndefaults: {{kernel_attention: {{num_heads: 4}}}}\nlayers: "{call}"'
        )
    assert message in str(err.value)


# -- causal chunks, gradients and the memory kept for backward ---------------------------


@pytest.mark.parametrize("name", list(LAYERS))
def test_causal_chunks_equal_the_dense_formula(name: str) -> None:
    """Length 37 runs as 3 chunks of 16 (padded to 48) or one of 37 for wide features."""
    assert_matches_dense(LAYERS[name](True).double(), n=37, padded_from=30)


def test_causal_chunk_sizes() -> None:
    from specdsl.library.spectral_attention import causal_chunk, causal_rows

    assert causal_chunk(1000, 32, 32) == 32  # sqrt(F d)
    assert causal_chunk(1000, 7, 4) == 16  # at least 16
    assert causal_chunk(1000, 65**2, 32) == 256  # at most 256
    assert causal_chunk(10, 32, 32) == 10  # one chunk for short inputs
    assert (causal_rows(37, 7, 4), causal_rows(48, 7, 4), causal_rows(5, 7, 4)) == (48, 48, 5)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("name", ["softmax", "relu", "no-bias", "polynomial", "spectral"])
def test_training_gradients(name: str, causal: bool) -> None:
    """gradcheck with a key mask (padded keys, training mode; causal: over several chunks),
    through both layouts (tokens as columns: non-causal random features)."""
    layer = LAYERS[name](causal).double().train()
    x = torch.randn(1, 21, 12, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(1, 21, dtype=torch.bool)
    mask[0, 18:] = False
    assert torch.autograd.gradcheck(
        lambda t: layer(t, mask=mask), (x,), eps=1e-6, atol=1e-6, fast_mode=True
    )


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(
    "config",
    [
        SpectralAttentionConfig(hidden_dim=24, num_heads=4),
        SpectralAttentionConfig(hidden_dim=24, num_heads=3, num_features=40, head_dim=5),
        PerformerAttentionConfig(hidden_dim=24, num_heads=4, generalized=True),
        SpectralKernelAttentionConfig(hidden_dim=24, num_heads=4),
    ],
    ids=["softmax", "wide-features", "relu", "gaussian"],
)
def test_activation_bytes_equal_the_memory_kept_for_backward(config, causal: bool) -> None:
    from specdsl.library import Dims
    from specdsl.testing import build

    config = config.model_copy(update={"causal": causal})
    layer = build(config)
    for n in (13, 40):
        x = torch.randn(2, n, 24, requires_grad=True)
        expected = config.cost(Dims(2, n, 24)).activation_bytes
        assert held_for_backward(layer, x) == expected, n
