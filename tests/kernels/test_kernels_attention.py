"""``compute_attention`` equals the dense kernel-attention formula, without forming it."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from specdsl.kernels import (
    FourierKernel,
    GaussianRFFKernel,
    PolynomialKernel,
    RFFAttentionKernel,
)

D, N, DV = 4, 7, 3


def _qkv(batch=(2,), n=N, scale=1.0, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    q = scale * torch.randn(*batch, n, D, generator=g, dtype=dtype)
    k = scale * torch.randn(*batch, n, D, generator=g, dtype=dtype)
    v = torch.randn(*batch, n, DV, generator=g, dtype=dtype)
    return q, k, v


def _dense(kernel, q, k, v, mask=None, causal=False):
    a = kernel(q) @ kernel(k).mT
    if mask is not None:
        a = a * mask.unsqueeze(-2)
    if causal:
        a = a * torch.ones(a.shape[-2:], dtype=torch.bool).tril()
    return (a @ v) / a.sum(-1, keepdim=True)


KERNELS = {
    "favor-softmax": (RFFAttentionKernel(D, 16, use_orthogonal=False, seed=0), 1.0),
    "favor-softmax-orth": (RFFAttentionKernel(D, 16, seed=1), 1.0),
    "relu": (RFFAttentionKernel(D, 64, kernel_type="relu", seed=2), 1.0),
    "elu": (RFFAttentionKernel(D, 16, kernel_type="elu"), 1.0),
    "gaussian": (GaussianRFFKernel(D, 32, use_cos_sin=True, seed=3), 0.1),
    "fourier": (FourierKernel(D, 8, seed=4), 0.1),
    "polynomial": (PolynomialKernel(2, coef0=1.0), 1.0),
}


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("name", list(KERNELS))
def test_matches_dense_formula(name: str, causal: bool, masked: bool) -> None:
    kernel, scale = KERNELS[name]
    q, k, v = _qkv(batch=(2, 3), scale=scale)
    mask = None
    if masked:  # (2, 1, n): broadcast over heads; keep the first key so no row is empty
        mask = torch.rand(2, 1, N, generator=torch.Generator().manual_seed(5)) > 0.4
        mask[..., 0] = True
    out = kernel.compute_attention(q, k, v, mask=mask, causal=causal)
    assert out.shape == (2, 3, N, DV)
    ref = _dense(kernel, q, k, v, mask=mask, causal=causal)
    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-10)


def test_cross_attention_with_different_lengths() -> None:
    kernel, _ = KERNELS["favor-softmax"]
    q, _, _ = _qkv(n=5)
    _, k, v = _qkv(n=9, seed=1)
    torch.testing.assert_close(kernel.compute_attention(q, k, v), _dense(kernel, q, k, v))
    with pytest.raises(ValueError, match="causal"):
        kernel.compute_attention(q, k, v, causal=True)
    with pytest.raises(ValueError, match="mask"):
        kernel.compute_attention(q, k, v, mask=torch.ones(5, dtype=torch.bool))
    with pytest.raises(ValueError, match="v must"):
        kernel.compute_attention(q, k, v[..., :4, :])


def test_masked_keys_and_future_keys_have_no_influence() -> None:
    kernel = RFFAttentionKernel(D, 32, seed=0)
    q, k, v = _qkv()
    mask = torch.tensor([True, False, True, True, False, True, True])
    k2, v2 = k.clone(), v.clone()
    k2[:, 1] += 5.0  # a huge masked key must not even change the key stabiliser's effect
    v2[:, 4] -= 3.0
    out = kernel.compute_attention(q, k, v, mask=mask)
    torch.testing.assert_close(kernel.compute_attention(q, k2, v2, mask=mask), out)
    causal = kernel.compute_attention(q, k, v, causal=True)
    k3, v3 = k.clone(), v.clone()
    k3[:, 4:] += 1.0
    v3[:, 4:] += 1.0
    torch.testing.assert_close(
        kernel.compute_attention(q, k3, v3, causal=True)[:, :4], causal[:, :4]
    )


def test_fully_masked_rows_are_finite() -> None:
    kernel = RFFAttentionKernel(D, 8, seed=0)
    q, k, v = _qkv()
    mask = torch.tensor([[True] * N, [False] * N])
    out = kernel.compute_attention(q, k, v, mask=mask)
    assert torch.isfinite(out).all()
    assert out[1].abs().max() == 0


def test_favor_stabilisation_in_float32() -> None:
    kernel = RFFAttentionKernel(8, 64, seed=0)
    g = torch.Generator().manual_seed(0)
    q = 8.0 * torch.randn(2, 10, 8, generator=g)  # ||x||^2 / 2 ~ 256: exp underflows
    k = 8.0 * torch.randn(2, 10, 8, generator=g)
    v = torch.randn(2, 10, 3, generator=g)
    assert (kernel(q) == 0).all(-1).any()  # unstabilised features vanish for whole rows
    for causal in (False, True):
        out = kernel.compute_attention(q, k, v, causal=causal)
        assert out.dtype == torch.float32 and torch.isfinite(out).all()
        ref = kernel.compute_attention(q.double(), k.double(), v.double(), causal=causal)
        torch.testing.assert_close(out.double(), ref, rtol=1e-3, atol=1e-3)


def test_stabilised_features_are_rescaled_exactly() -> None:
    kernel = RFFAttentionKernel(D, 16, seed=0)
    x, y, _ = _qkv(scale=2.0)
    exact_features = kernel(x) @ kernel(y).mT
    torch.testing.assert_close(kernel.kernel_approximation(x, y), exact_features)
    ratio_q = kernel(x) / kernel(x, is_query=True)  # constant along the feature axis
    torch.testing.assert_close(ratio_q, ratio_q[..., :1].expand_as(ratio_q))
    ratio_k = kernel(y) / kernel(y, is_query=False)  # one constant per batch element
    torch.testing.assert_close(ratio_k, ratio_k[..., :1, :1].expand_as(ratio_k))
    assert kernel(x, is_query=True).amax(-1).allclose(torch.tensor(0.25, dtype=torch.float64))


def test_redraw_uses_one_draw_per_call() -> None:
    kernel = RFFAttentionKernel(D, 16, redraw=True, seed=0)
    q, k, v = _qkv()
    before = kernel.omega.clone()
    out = kernel.compute_attention(q, k, v)
    assert not torch.equal(before, kernel.omega)
    kernel.redraw = False  # dense reference with the omega drawn by that call
    torch.testing.assert_close(out, _dense(kernel, q, k, v))
    kernel.redraw = True
    kernel.eval()
    frozen = kernel.omega.clone()
    kernel(q)
    kernel.compute_attention(q, k, v)
    assert torch.equal(frozen, kernel.omega)
    twin = RFFAttentionKernel(D, 16, redraw=True, seed=0)
    twin(q)
    twin(q)
    kernel.train()
    kernel.redraw_features()
    torch.testing.assert_close(kernel.omega, twin.omega, rtol=0, atol=0)


class _ShapeRecorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[int, ...]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.shapes += [tuple(t.shape) for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
        return out


@pytest.mark.parametrize("causal", [False, True])
def test_no_n_by_n_intermediate(causal: bool) -> None:
    n = 97
    kernel = RFFAttentionKernel(D, 8, seed=0)
    q, k, v = _qkv(n=n)
    with _ShapeRecorder() as rec:
        kernel.compute_attention(q, k, v, mask=torch.ones(n, dtype=torch.bool), causal=causal)
    assert rec.shapes
    assert all(s.count(n) <= 1 for s in rec.shapes), [s for s in rec.shapes if s.count(n) > 1]
