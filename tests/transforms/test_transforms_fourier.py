"""Fourier wrappers and spectral pooling against scipy."""

import numpy as np
import pytest
import scipy.fft
import scipy.signal
import torch

from specdsl.transforms import FFT1D, FFT2D, RFFT, RFFT2D, SpectralPooling


def rel_err(actual, expected) -> float:
    """Relative 2-norm error of ``actual`` (tensor or array) against ``expected``."""
    actual = np.asarray(actual.detach() if torch.is_tensor(actual) else actual)
    expected = np.asarray(expected.detach() if torch.is_tensor(expected) else expected)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-300))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 1023])
@pytest.mark.parametrize("norm", ["ortho", "backward", "forward"])
def test_fft_rfft_match_scipy_and_invert(n, norm):
    x = torch.randn(3, n, dtype=torch.float64)
    fft, rfft = FFT1D(norm), RFFT(norm)
    y = fft(x)
    assert y.dtype == torch.complex128
    assert rel_err(y, scipy.fft.fft(x.numpy(), norm=norm)) < 1e-10
    assert rel_err(fft.inverse_transform(y).real, x.numpy()) < 1e-10
    r = rfft(x)
    assert rel_err(r, scipy.fft.rfft(x.numpy(), norm=norm)) < 1e-10
    assert rel_err(rfft.inverse_transform(r, n=n), x.numpy()) < 1e-10


def test_fft2d_rfft2d_match_scipy_and_parseval():
    x = torch.randn(2, 6, 9, dtype=torch.float64)
    y = FFT2D()(x)
    assert rel_err(y, scipy.fft.fft2(x.numpy(), norm="ortho")) < 1e-10
    assert np.isclose(y.abs().pow(2).sum().item(), x.pow(2).sum().item(), rtol=1e-12)
    assert rel_err(FFT2D().inverse_transform(y).real, x.numpy()) < 1e-10
    r = RFFT2D()(x, dim=(0, 2))
    assert rel_err(r, scipy.fft.rfft2(x.numpy(), norm="ortho", axes=(0, 2))) < 1e-10
    assert rel_err(RFFT2D().inverse_transform(r, s=(2, 9), dim=(0, 2)), x.numpy()) < 1e-10


@pytest.mark.parametrize("n", [1, 2, 7, 8, 100, 1023])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 16, 101])
def test_spectral_pooling_matches_scipy_resample(n, size):
    x = torch.randn(2, n, dtype=torch.float64)
    y = SpectralPooling(size)(x)
    assert y.shape == (2, size) and y.dtype == torch.float64
    assert rel_err(y, scipy.signal.resample(x.numpy(), size, axis=-1)) < 1e-10


def test_spectral_pooling_keeps_constants_and_low_frequencies():
    t = torch.arange(64, dtype=torch.float64)
    x = 3.0 + torch.cos(2 * torch.pi * 2 * t / 64)
    y = SpectralPooling(16)(x)
    expected = 3.0 + torch.cos(2 * torch.pi * 2 * torch.arange(16, dtype=torch.float64) / 16)
    assert rel_err(y, expected.numpy()) < 1e-12
    z = SpectralPooling(5)(torch.randn(4, 30, 6), dim=1)
    assert z.shape == (4, 5, 6)


def test_bad_arguments():
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="output_size must be an integer >= 1"):
            SpectralPooling(bad)
    with pytest.raises(ValueError, match="norm must be one of"):
        FFT1D(norm="unitary")
