"""Cross-cutting properties of every transform: any length, dtypes, autograd, dims, caching."""

import numpy as np
import pytest
import scipy.fft
import torch

import specdsl.transforms as T


def rel_err(actual, expected) -> float:
    """Relative 2-norm error of ``actual`` (tensor or array) against ``expected``."""
    actual = np.asarray(actual.detach() if torch.is_tensor(actual) else actual)
    expected = np.asarray(expected.detach() if torch.is_tensor(expected) else expected)
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-300))


LENGTHS = [1, 2, 3, 7, 100, 1000, 1023]

# name -> (module factory, invertible, orthonormal)
REAL_TRANSFORMS = {
    "dct": (lambda: T.DCT(), True, True),
    "dct_unnormalized": (lambda: T.DCT(normalized=False), True, False),
    "dst": (lambda: T.DST(), True, True),
    "hadamard": (lambda: T.HadamardTransform(), False, False),
    "hadamard_keep": (lambda: T.HadamardTransform(pad="keep"), True, True),
    "sequency_keep": (lambda: T.SequencyHadamardTransform(pad="keep"), True, True),
    "slant_keep": (lambda: T.SlantTransform(pad="keep"), True, True),
    "pool": (lambda: T.SpectralPooling(5), False, False),
}


def run(transform, x):
    """Forward pass and, where defined, an exact reconstruction of ``x``."""
    if isinstance(transform, (T.DWT1D, T.MDCT)):
        coeffs = transform(x)
        return coeffs, transform.inverse_transform(coeffs, x.shape[-1])
    y = transform(x)
    back = transform.inverse_transform(y) if hasattr(transform, "inverse_transform") else None
    return y, None if back is None else back[..., : x.shape[-1]]


def all_transforms():
    yield from ((name, f()) for name, (f, _, _) in REAL_TRANSFORMS.items())
    yield "mdct", T.MDCT(8)
    yield "dwt", T.DWT1D("haar", levels=None)


@pytest.mark.parametrize("n", LENGTHS)
def test_every_transform_handles_any_length(n):
    x = torch.randn(2, n, dtype=torch.float64)
    for name, transform in all_transforms():
        out, back = run(transform, x)
        _, invertible, orthonormal = REAL_TRANSFORMS.get(name, (None, True, False))
        if invertible:
            assert rel_err(back, x) < 1e-10, name
        if orthonormal:
            assert np.isclose(out.pow(2).sum(), x.pow(2).sum(), rtol=1e-10), name
    for module, ref in ((T.FFT1D(), scipy.fft.fft), (T.RFFT(), scipy.fft.rfft)):
        assert rel_err(module(x), ref(x.numpy(), norm="ortho")) < 1e-10


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_is_preserved(dtype):
    x = torch.randn(2, 3, 24, dtype=dtype)
    for name, transform in all_transforms():
        out, back = run(transform, x)
        flat = [out[0], *out[1]] if isinstance(out, tuple) else [out]
        assert all(t.dtype == dtype for t in flat), name
        assert back is None or back.dtype == dtype, name
    for t2d in (T.DCT2D(), T.HadamardTransform2D(), T.SlantTransform()):
        assert t2d(x).dtype == dtype
    ca, details = T.DWT2D("db2", levels=1).decompose(x.reshape(2, 6, 12))
    assert ca.dtype == dtype and all(c.dtype == dtype for c in details[0])
    complex_dtype = torch.complex64 if dtype == torch.float32 else torch.complex128
    assert T.FFT1D()(x).dtype == complex_dtype and T.RFFT2D()(x).dtype == complex_dtype


def test_float32_accuracy():
    x = torch.randn(4, 1000, dtype=torch.float64)
    ref = T.dct(x)
    assert (T.dct(x.float()).double() - ref).abs().max() < 1e-4
    coeffs = T.MDCT(64).transform(x.float())
    assert (T.MDCT(64).inverse_transform(coeffs, 1000).double() - x).abs().max() < 1e-4


EXTRA_GRADCHECK = {
    "dst_unnormalized": lambda: T.DST(normalized=False),
    "dct2d": T.DCT2D,
    "hadamard2d": T.HadamardTransform2D,
    "slant": T.SlantTransform,
    "fft": T.FFT1D,
    "rfft": T.RFFT,
    "fft2d": T.FFT2D,
    "rfft2d": T.RFFT2D,
}


@pytest.mark.parametrize("name", [*REAL_TRANSFORMS, *EXTRA_GRADCHECK])
def test_gradcheck_modules(name):
    factory = EXTRA_GRADCHECK.get(name) or REAL_TRANSFORMS[name][0]
    transform = factory()
    x = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(transform, (x,))
    inverse = getattr(transform, "inverse_transform", None)
    if inverse is not None:
        y = transform(x.detach()).clone().requires_grad_()
        assert torch.autograd.gradcheck(inverse, (y,))


@pytest.mark.parametrize("block", [4, 6])
def test_gradcheck_mdct(block):
    t = T.MDCT(block)
    x = torch.randn(2, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(t, (x,))
    c = torch.randn(2, 3, block // 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: t.inverse_transform(v, 3), (c,))


def flatten(coeffs):
    """``(cA, [details...])`` -> flat list of tensors (2D detail tuples expanded)."""
    ca, details = coeffs
    return [ca, *(t for d in details for t in (d if isinstance(d, tuple) else (d,)))]


@pytest.mark.parametrize("mode", ["symmetric", "periodization", "zero"])
def test_gradcheck_wavelets(mode):
    t1 = T.DWT1D("db2", levels=2, mode=mode)
    x = torch.randn(2, 13, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: flatten(t1(v)), (x,))
    ca, ds = t1(x.detach())
    leaves = [c.clone().requires_grad_() for c in (ca, *ds)]
    assert torch.autograd.gradcheck(lambda a, *d: t1.inverse_transform((a, list(d))), leaves)
    t2 = T.DWT2D("haar", levels=1, mode=mode)
    img = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: flatten(t2(v)), (img,))


def test_constants_built_in_inference_mode_still_support_autograd():
    for fn in (T.dct, T.idct, T.dst, T.fwht, T.slant, lambda v: T.mdct(v, 6)[..., 0]):
        with torch.inference_mode():
            fn(torch.randn(2, 11))
        x = torch.randn(2, 11, requires_grad=True)
        fn(x).sum().backward()
        assert x.grad is not None


def test_forward_aliases_transform_and_modules_are_parameter_free():
    x = torch.randn(3, 16)
    for _, transform in all_transforms():
        assert isinstance(transform, torch.nn.Module)
        assert list(transform.parameters()) == []
        out_f, out_t = transform(x), transform.transform(x)
        if isinstance(out_f, tuple):
            out_f, out_t = out_f[0], out_t[0]
        assert torch.equal(out_f, out_t)


def test_public_api_is_exported():
    for name in T.__all__:
        assert hasattr(T, name), name
    assert "dct" in T.functional.__all__
