"""Walsh-Hadamard (natural, sequency, 2D) and slant transforms against dense references."""

import functools

import numpy as np
import pytest
import scipy.linalg
import torch

from specdsl.transforms import (
    HadamardTransform,
    HadamardTransform2D,
    SequencyHadamardTransform,
    SlantTransform,
    fwht,
    ifwht,
    sequency_order,
)


def rel_err(actual, expected) -> float:
    """Relative 2-norm error of ``actual`` (tensor or array) against ``expected``."""
    actual = np.asarray(actual.detach() if torch.is_tensor(actual) else actual)
    expected = np.asarray(expected.detach() if torch.is_tensor(expected) else expected)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-300))


LENGTHS = [1, 2, 3, 4, 7, 8, 64, 100, 1000, 1023, 1024]


def next_pow2(n):
    return 1 << (n - 1).bit_length()


def pad_to(x, m):
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, m - x.shape[-1])])


@functools.cache
def dense_slant(n):
    """Orthonormal slant matrix by the textbook recursion S_N = M_N diag(S, S) / sqrt 2."""
    if n == 1:
        return np.ones((1, 1))
    if n == 2:
        return np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    h = n // 2
    a = np.sqrt(3 * n * n / (4 * (n * n - 1)))
    b = np.sqrt((n * n - 4) / (4 * (n * n - 1)))
    m = np.zeros((n, n))
    m[0, [0, h]] = 1, 1
    m[1, [0, 1, h, h + 1]] = a, b, -a, b
    m[h, [1, h + 1]] = 1, -1
    m[h + 1, [0, 1, h, h + 1]] = -b, a, b, a
    for i in range(2, h):
        m[i, [i, h + i]] = 1, 1
        m[h + i, [i, h + i]] = 1, -1
    return m @ scipy.linalg.block_diag(dense_slant(h), dense_slant(h)) / np.sqrt(2)


def test_sequency_order_counts_sign_changes():
    for n in [1, 2, 4, 8, 32]:
        rows = scipy.linalg.hadamard(n)[sequency_order(n).numpy()]
        changes = (np.diff(rows, axis=1) != 0).sum(axis=1)
        assert changes.tolist() == list(range(n))
    with pytest.raises(ValueError, match="power of two"):
        sequency_order(6)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        sequency_order(0)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("order", ["natural", "sequency"])
def test_fwht_matches_scipy_on_padded_input(n, order):
    m = next_pow2(n)
    h = scipy.linalg.hadamard(m).astype(np.float64)
    if order == "sequency":
        h = h[sequency_order(m).numpy()]
    x = torch.randn(2, n, dtype=torch.float64)
    full = pad_to(x.numpy(), m) @ h.T
    for normalized in (True, False):
        scale = 1 / np.sqrt(m) if normalized else 1.0
        y = fwht(x, normalized=normalized, order=order)
        assert y.shape == x.shape
        assert rel_err(y, full[:, :n] * scale) < 1e-10
        kept = fwht(x, normalized=normalized, pad="keep", order=order)
        assert kept.shape == (2, m)
        assert rel_err(kept, full * scale) < 1e-10
        back = ifwht(kept, normalized=normalized, pad="keep", order=order)
        assert rel_err(back, pad_to(x.numpy(), m)) < 1e-10


@pytest.mark.parametrize("cls", [HadamardTransform, SequencyHadamardTransform, SlantTransform])
def test_orthonormal_inverse_and_parseval(cls):
    x = torch.randn(3, 64, 5, dtype=torch.float64)
    t = cls()
    y = t(x, dim=1)
    assert np.isclose(y.pow(2).sum().item(), x.pow(2).sum().item(), rtol=1e-12)
    assert rel_err(t.inverse_transform(y, dim=1), x.numpy()) < 1e-12


def test_crop_mode_inverse_is_adjoint():
    x, y = torch.randn(2, 100, dtype=torch.float64), torch.randn(2, 100, dtype=torch.float64)
    for t in (HadamardTransform(), SequencyHadamardTransform(), SlantTransform()):
        lhs = (t(x) * y).sum()
        rhs = (x * t.inverse_transform(y)).sum()
        assert torch.isclose(lhs, rhs, rtol=1e-12)


def test_hadamard_2d_matches_scipy():
    x = torch.randn(2, 8, 5, dtype=torch.float64)
    h8, h8b = scipy.linalg.hadamard(8), scipy.linalg.hadamard(8)
    expected = h8 @ pad_to(x.numpy(), 8) @ h8b.T / 8
    t = HadamardTransform2D()
    assert rel_err(t(x), expected[..., :5]) < 1e-10
    keep = HadamardTransform2D(pad="keep")
    assert rel_err(keep(x), expected) < 1e-10
    assert rel_err(keep.inverse_transform(keep(x)), pad_to(x.numpy(), 8)) < 1e-10


@pytest.mark.parametrize("n", LENGTHS)
def test_slant_matches_dense_recursion(n):
    m = next_pow2(n)
    s = dense_slant(m)
    assert np.allclose(s @ s.T, np.eye(m))
    x = torch.randn(2, n, dtype=torch.float64)
    full = pad_to(x.numpy(), m) @ s.T
    assert rel_err(SlantTransform()(x), full[:, :n]) < 1e-10
    kept = SlantTransform(pad="keep")
    assert rel_err(kept(x), full) < 1e-10
    assert rel_err(kept.inverse_transform(kept(x)), pad_to(x.numpy(), m)) < 1e-10


def test_bad_arguments():
    with pytest.raises(ValueError, match="pad must be one of 'crop', 'keep'"):
        HadamardTransform(pad="reflect")
    with pytest.raises(ValueError, match="order"):
        fwht(torch.randn(4), order="dyadic")
    with pytest.raises(ValueError, match="pad"):
        SlantTransform(pad="none")
