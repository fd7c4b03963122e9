"""DCT / DST / DCT2D / MDCT against scipy and dense definitions."""

import math

import numpy as np
import pytest
import scipy.fft
import torch

from specdsl.transforms import DCT, DCT2D, DST, MDCT, dct, dst, idct, idst, imdct, mdct


def rel_err(actual, expected) -> float:
    """Relative 2-norm error of ``actual`` (tensor or array) against ``expected``."""
    actual = np.asarray(actual.detach() if torch.is_tensor(actual) else actual)
    expected = np.asarray(expected.detach() if torch.is_tensor(expected) else expected)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-300))


LENGTHS = [1, 2, 3, 4, 7, 16, 100, 1023]
NORMS = ["ortho", None]
INVERSE_REF = {scipy.fft.dct: scipy.fft.idct, scipy.fft.dst: scipy.fft.idst}


def dense_mdct(half, window):
    """Dense ``(N, 2N)`` MDCT matrix straight from the definition."""
    n = np.arange(2 * half)
    k = np.arange(half)
    kernel = np.cos(np.pi / half * (n[None, :] + 0.5 + half / 2) * (k[:, None] + 0.5))
    return kernel * window[None, :]


def sine_window(block):
    return np.sin(np.pi * (np.arange(block) + 0.5) / block)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("norm", NORMS)
def test_dct_dst_match_scipy_and_invert(n, norm):
    x = torch.randn(3, n, dtype=torch.float64)
    for fwd, inv, ref in ((dct, idct, scipy.fft.dct), (dst, idst, scipy.fft.dst)):
        y = fwd(x, norm=norm)
        assert rel_err(y, ref(x.numpy(), type=2, norm=norm)) < 1e-10
        assert rel_err(inv(y, norm=norm), x.numpy()) < 1e-10
        assert rel_err(inv(x, norm=norm), INVERSE_REF[ref](x.numpy(), norm=norm)) < 1e-10


@pytest.mark.parametrize("cls", [DCT, DST])
def test_orthonormal_modules_preserve_energy_along_any_dim(cls):
    x = torch.randn(4, 37, 5, dtype=torch.float64)
    t = cls(normalized=True)
    y = t(x, dim=1)
    assert y.shape == x.shape
    assert math.isclose(y.pow(2).sum().item(), x.pow(2).sum().item(), rel_tol=1e-12)
    assert rel_err(t.inverse_transform(y, dim=1), x.numpy()) < 1e-12
    ref = (scipy.fft.dct if cls is DCT else scipy.fft.dst)(x.numpy(), norm="ortho", axis=1)
    assert rel_err(y, ref) < 1e-10


@pytest.mark.parametrize("normalized", [True, False])
def test_dct2d_matches_dctn(normalized):
    x = torch.randn(2, 9, 12, dtype=torch.float64)
    t = DCT2D(normalized=normalized)
    norm = "ortho" if normalized else None
    y = t(x)
    assert rel_err(y, scipy.fft.dctn(x.numpy(), norm=norm, axes=(-2, -1))) < 1e-10
    assert rel_err(t.inverse_transform(y), x.numpy()) < 1e-10
    y02 = t(x, dim=(0, 2))
    assert rel_err(y02, scipy.fft.dctn(x.numpy(), norm=norm, axes=(0, 2))) < 1e-10


@pytest.mark.parametrize("block", [2, 4, 6, 8, 10, 16, 18, 64])
def test_mdct_matches_dense_definition(block):
    half = block // 2
    x = torch.randn(2, 3 * half + 1, dtype=torch.float64)
    coeffs = MDCT(block)(x)
    frames = -(-x.shape[-1] // half) + 1
    assert coeffs.shape == (2, frames, half)
    padded = np.pad(x.numpy(), ((0, 0), (half, (frames + 1) * half - x.shape[-1] - half)))
    matrix = dense_mdct(half, sine_window(block))
    windows = np.stack([padded[:, f * half : f * half + block] for f in range(frames)], 1)
    assert rel_err(coeffs, windows @ matrix.T) < 1e-10
    scaled = MDCT(block, normalized=True)(x)
    assert rel_err(scaled, coeffs.numpy() * math.sqrt(2 / half)) < 1e-10


@pytest.mark.parametrize("window", ["sine", "vorbis", "kbd"])
@pytest.mark.parametrize("block", [2, 6, 16, 64])
@pytest.mark.parametrize("length", [1, 2, 7, 100])
def test_mdct_tdac_reconstruction(window, block, length):
    x = torch.randn(3, length, dtype=torch.float64)
    for normalized in (False, True):
        t = MDCT(block, window=window, normalized=normalized)
        coeffs = t(x)
        assert rel_err(t.inverse_transform(coeffs, length=length), x.numpy()) < 1e-10
        if normalized:  # the normalised lapped transform is orthogonal
            energy = coeffs.pow(2).sum().item()
            assert math.isclose(energy, x.pow(2).sum().item(), rel_tol=1e-10)


def test_mdct_along_middle_dim_and_default_length():
    x = torch.randn(2, 40, 3, dtype=torch.float64)
    coeffs = mdct(x, 8, dim=1)
    assert coeffs.shape == (2, 11, 4, 3)
    y = imdct(coeffs, dim=2)
    assert y.shape == (2, 40, 3)
    assert rel_err(y, x.numpy()) < 1e-10


@pytest.mark.parametrize("bad", [3, 0, -4, 1, 2.0, True])
def test_mdct_bad_block_size(bad):
    with pytest.raises(ValueError, match="block_size must be an even integer >= 2"):
        MDCT(block_size=bad)


def test_bad_arguments():
    with pytest.raises(ValueError, match="window"):
        MDCT(8, window="hann")
    with pytest.raises(ValueError, match="norm"):
        dct(torch.randn(4), norm="forward")
    with pytest.raises(ValueError, match="type"):
        dct(torch.randn(4), type=1)
    with pytest.raises(ValueError, match="length"):
        MDCT(8).inverse_transform(torch.randn(3, 4), length=100)
    with pytest.raises(TypeError, match="floating"):
        dct(torch.arange(4))
