"""DWT1D / DWT2D and the functional wavelet API against PyWavelets."""

import numpy as np
import pytest
import pywt
import torch

from specdsl.transforms import DWT1D, DWT2D, MODES, SUPPORTED_WAVELETS, dwt, idwt


def rel_err(actual, expected) -> float:
    """Relative 2-norm error of ``actual`` (tensor or array) against ``expected``."""
    actual = np.asarray(actual.detach() if torch.is_tensor(actual) else actual)
    expected = np.asarray(expected.detach() if torch.is_tensor(expected) else expected)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-300))


WAVELETS = ["haar", "db2", "db4", "db8", "sym3", "sym8", "coif1", "coif5", "bior1.3", "bior2.8"]


def assert_coeffs_match(ours, theirs):
    flat = [ours[0], *ours[1]]
    assert len(flat) == len(theirs)
    for a, b in zip(flat, theirs, strict=True):
        if isinstance(b, tuple):
            assert_coeffs_match((a[0], list(a[1:])), list(b))
        else:
            assert tuple(a.shape) == b.shape
            assert rel_err(a, b) < 1e-10


@pytest.mark.parametrize("wavelet", WAVELETS)
def test_wavedec_waverec_match_pywt(wavelet):
    for mode in MODES:
        for n in (33, 64, 101):
            x = torch.randn(2, n, dtype=torch.float64)
            levels = min(2, pywt.dwt_max_level(n, pywt.Wavelet(wavelet).dec_len))
            t = DWT1D(wavelet, levels=levels, mode=mode)
            coeffs = t.decompose(x)
            assert_coeffs_match(coeffs, pywt.wavedec(x.numpy(), wavelet, mode, level=levels))
            rec = t.reconstruct(coeffs)
            theirs = pywt.waverec(
                pywt.wavedec(x.numpy(), wavelet, mode, level=levels), wavelet, mode
            )
            assert rel_err(rec, theirs) < 1e-10
            assert rel_err(t.reconstruct(coeffs, output_len=n), x.numpy()) < 1e-10


@pytest.mark.parametrize("wavelet", SUPPORTED_WAVELETS)
def test_every_supported_wavelet_single_level(wavelet):
    x = torch.randn(3, 40, dtype=torch.float64)
    ca, cd = dwt(x, wavelet, "symmetric")
    ref_a, ref_d = pywt.dwt(x.numpy(), wavelet, "symmetric")
    assert rel_err(ca, ref_a) < 1e-10 and rel_err(cd, ref_d) < 1e-10
    assert rel_err(idwt(ca, cd, wavelet, "symmetric"), x.numpy()) < 1e-10


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("rows", "n", "wavelets"),
    [
        *((2, n, ("db1", "db4", "bior2.8")) for n in (2, 3, 7, 8)),  # short signals
        (80, 37, ("haar", "db4", "coif2")),  # enough rows for the column layout (_by_columns)
    ],
)
def test_single_level_matches_pywt(mode, rows, n, wavelets):
    x = torch.randn(rows, n, dtype=torch.float64)
    for wavelet in wavelets:
        ca, cd = dwt(x, wavelet, mode)
        ref_a, ref_d = pywt.dwt(x.numpy(), wavelet, mode)
        assert rel_err(ca, ref_a) < 1e-10 and rel_err(cd, ref_d) < 1e-10
        ref = pywt.idwt(ref_a, ref_d, wavelet, mode)
        assert rel_err(idwt(ca, cd, wavelet, mode), ref) < 1e-10


@pytest.mark.parametrize("wavelet", ["haar", "db3", "sym4", "coif2", "bior2.4"])
@pytest.mark.parametrize("mode", ["symmetric", "periodization", "zero", "reflect", "periodic"])
def test_wavedec2_waverec2_match_pywt(wavelet, mode):
    x = torch.randn(2, 37, 48, dtype=torch.float64)
    levels = min(2, pywt.dwt_max_level(37, pywt.Wavelet(wavelet).dec_len))
    t = DWT2D(wavelet, levels=levels, mode=mode)
    coeffs = t.decompose(x)
    theirs = pywt.wavedec2(x.numpy(), wavelet, mode, level=levels)
    assert_coeffs_match(coeffs, theirs)
    assert rel_err(t.reconstruct(coeffs), pywt.waverec2(theirs, wavelet, mode)) < 1e-10
    assert rel_err(t.reconstruct(coeffs, output_len=(37, 48)), x.numpy()) < 1e-10


def test_any_dim_and_batch_shape():
    x = torch.randn(3, 50, 4, dtype=torch.float64)
    t = DWT1D("db3", levels=2, mode="periodization")
    coeffs = t.decompose(x, dim=1)
    assert_coeffs_match(coeffs, pywt.wavedec(x.numpy(), "db3", "periodization", 2, axis=1))
    assert rel_err(t.reconstruct(coeffs, output_len=50, dim=1), x.numpy()) < 1e-10
    y = torch.randn(7, 2, 20, 3, dtype=torch.float64)
    c2 = DWT2D("db2", levels=1).decompose(y, dim=(0, 2))
    assert_coeffs_match(c2, pywt.wavedec2(y.numpy(), "db2", level=1, axes=(0, 2)))


def test_levels_none_uses_max_and_zero_is_identity():
    x = torch.randn(100, dtype=torch.float64)
    _, details = DWT1D("db2", levels=None).decompose(x)
    assert len(details) == pywt.dwt_max_level(100, 4)
    ca0, details0 = DWT1D("db2", levels=0).decompose(x)
    assert details0 == [] and torch.equal(ca0, x)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Unsupported wavelet 'xyz'; supported: haar, db1"):
        DWT1D("xyz")
    with pytest.raises(ValueError, match="Unsupported mode"):
        DWT1D("db2", mode="smooth")
    with pytest.raises(ValueError, match="levels must be an integer >= 0"):
        DWT1D("db2", levels=-1)
    with pytest.raises(ValueError, match=r"levels must be an integer in \[0, 3\]"):
        DWT1D("db4", levels=4).decompose(torch.randn(64))
    with pytest.raises(ValueError, match=r"levels must be an integer in \[0, 1\]"):
        DWT2D("db1", levels=2).decompose(torch.randn(64, 3))
    with pytest.raises(ValueError, match="output_len"):
        DWT1D("db1").reconstruct(DWT1D("db1").decompose(torch.randn(8)), output_len=9)
