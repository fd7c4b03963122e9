"""FNet-family mixers: dense float64 DFT references, token mixing, specs and exact costs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import specdsl
from specdsl.library.fourier import (
    FourierMixing1DConfig,
    FourierMixingConfig,
    RealFourierMixingConfig,
    SeparableFourierMixingConfig,
)
from specdsl.library.fourier.modules import (
    FourierMixing,
    FourierMixing1D,
    RealFourierMixing,
    SeparableFourierMixing,
)
from specdsl.testing import assert_cost_matches, build

D = 16
CONFIGS = {
    "fourier": FourierMixingConfig(hidden_dim=D),
    "fourier_1d": FourierMixing1DConfig(hidden_dim=D),
    "real_fourier": RealFourierMixingConfig(hidden_dim=D),
    "real_fourier_complex": RealFourierMixingConfig(hidden_dim=D, use_real_fft=False),
    "separable_both": SeparableFourierMixingConfig(hidden_dim=D),
    "separable_seq": SeparableFourierMixingConfig(hidden_dim=D, mix_features=False),
    "separable_hidden": SeparableFourierMixingConfig(hidden_dim=D, mix_sequence=False),
}
# Which axes each configuration transforms: (sequence, hidden).
AXES = {
    "fourier": (True, True),
    "fourier_1d": (True, False),
    "real_fourier": (True, True),
    "real_fourier_complex": (True, True),
    "separable_both": (True, True),
    "separable_seq": (True, False),
    "separable_hidden": (False, True),
}


def dft_matrix(n: int, norm: str) -> np.ndarray:
    """Dense ``F[k, t] = exp(-2 pi i k t / n)`` with the ``torch.fft`` normalisation."""
    k = np.arange(n)
    scale = {"backward": 1.0, "ortho": 1.0 / np.sqrt(n), "forward": 1.0 / n}[norm]
    return scale * np.exp(-2j * np.pi * np.outer(k, k) / n)


def dense_reference(x: np.ndarray, sequence: bool, hidden: bool, norm: str) -> np.ndarray:
    """``Re(F_n X F_d^T)`` with the chosen axes transformed, by dense matrices."""
    out = x.astype(complex)
    if sequence:
        out = np.einsum("kt,btd->bkd", dft_matrix(x.shape[1], norm), out)
    if hidden:
        out = np.einsum("ld,btd->btl", dft_matrix(x.shape[2], norm), out)
    return out.real


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("norm", ["ortho", "forward", "backward"])
@pytest.mark.parametrize("n", [12, 13])
def test_equals_dense_dft_real_part(name: str, norm: str, n: int) -> None:
    config = CONFIGS[name].model_copy(update={"fft_norm": norm})
    module = build(config)
    x = torch.randn(2, n, D, dtype=torch.float64)
    expected = dense_reference(x.numpy(), *AXES[name], norm)
    np.testing.assert_allclose(module(x).numpy(), expected, atol=1e-10, rtol=0)


@pytest.mark.parametrize("n, d", [(12, 16), (9, 7), (256, 256)])
def test_real_fourier_equals_fft2_real_part(n: int, d: int) -> None:
    x = torch.randn(2, n, d, dtype=torch.float64)
    expected = torch.fft.fft2(x, norm="ortho").real
    out = RealFourierMixing(d)(x)
    assert (out - expected).abs().max().item() < 1e-10


def test_real_fourier_mixes_tokens() -> None:
    module = RealFourierMixing(D)
    x = torch.randn(1, 10, D, dtype=torch.float64)
    out = module(x)
    # The documented library's real-FFT mixer computed irfft2(rfft2(x)) == x.
    assert torch.allclose(torch.fft.irfft2(torch.fft.rfft2(x), s=x.shape[-2:]), x)
    assert not torch.allclose(out, x, atol=1e-3)
    changed = x.clone()
    changed[0, 3] += 1.0
    delta = (module(changed) - out).abs().amax(dim=-1)[0]
    others = torch.cat((delta[:3], delta[4:]))
    assert (others > 1e-3).all(), "changing token 3 must change every other token's output"


def test_keep_complex_returns_the_spectrum_and_is_rejected_in_specs() -> None:
    x = torch.randn(2, 6, D)
    out = FourierMixing(D, keep_complex=True)(x)
    assert out.is_complex() and FourierMixing(D, keep_complex=True).keep_complex
    torch.testing.assert_close(out, torch.fft.fft2(x, norm="ortho"))
    with pytest.raises(specdsl.SpecError, match="residual"):
        specdsl.parse("hidden_dim: 16\nlayers: [fourier(keep_complex=true)]")


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_input_gradient(name: str, dtype: torch.dtype) -> None:
    module = build(CONFIGS[name])
    assert sum(p.numel() for p in module.parameters()) == 0
    x = torch.randn(2, 13, D, dtype=dtype, requires_grad=True)
    out = module(x, mask=None)
    assert out.shape == (2, 13, D) and out.dtype == dtype
    out.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("n", [16, 13])
def test_cost_matches(name: str, n: int) -> None:
    assert_cost_matches(CONFIGS[name], batch=2, seq_len=n)


def test_real_fft_formula_is_cheaper() -> None:
    from specdsl.library import Dims

    dims = Dims(batch=1, seq_len=512, hidden_dim=256)
    complex_fft = CONFIGS["real_fourier_complex"].cost(dims).flops
    assert CONFIGS["real_fourier"].cost(dims).flops < complex_fft
    # fourier runs the real-input algorithm too (same values as fft2(x).real).
    assert CONFIGS["fourier"].cost(dims) == CONFIGS["real_fourier"].cost(dims)
    assert CONFIGS["fourier"].cost(dims).complexity == "O(n log n)"


def saved_tensors(module: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Every tensor autograd saves for backward during ``module(x)``."""
    saved: list[torch.Tensor] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        module(x)
    return saved


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("n", [1, 2, 13, 16])
def test_nothing_is_kept_for_backward(name: str, n: int) -> None:
    from specdsl.library import Dims

    module = build(CONFIGS[name]).train()
    x = torch.randn(2, n, D, requires_grad=True).clone()  # a non-leaf, like a norm's output
    assert saved_tensors(module, x) == []
    assert CONFIGS[name].cost(Dims(2, n, D)).activation_bytes == 0


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("norm", ["ortho", "forward", "backward"])
def test_gradient_is_the_transposed_dense_map(name: str, norm: str) -> None:
    # The backward reuses the forward map (the real part of a DFT is symmetric): check it
    # against the transpose of the dense matrix, not against itself.
    config = CONFIGS[name].model_copy(update={"fft_norm": norm})
    n, d = 7, D
    x = torch.randn(2, n, d, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, n, d, dtype=torch.float64)
    (build(config)(x) * weights).sum().backward()
    sequence, hidden = AXES[name]
    eye = np.eye(n * d).reshape(n * d, n, d)
    dense = dense_reference(eye, sequence, hidden, norm).reshape(n * d, n * d)  # column map
    expected = (weights.numpy().reshape(2, n * d) @ dense.T).reshape(2, n, d)
    np.testing.assert_allclose(x.grad.numpy(), expected, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", ["fourier", "fourier_1d", "separable_hidden"])
def test_double_backward(name: str) -> None:
    module = build(CONFIGS[name]).double()
    x = torch.randn(1, 5, D, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(module, (x,))


@pytest.mark.parametrize(
    "shape, dims",
    [
        ((2, 7, 6), (-1,)),
        ((2, 7, 6), (0,)),  # not trailing: moved last and back
        ((2, 7, 6), (0, 2)),
        ((3, 5, 2, 4), (1,)),
        ((3, 5, 2, 4), (-2, -1)),
        ((3, 5, 2, 4), (0, 1, 2, 3)),
        ((9,), (0,)),
        ((2, 1, 9), (1, 2)),
    ],
)
def test_real_dft_any_axes(shape: tuple[int, ...], dims: tuple[int, ...]) -> None:
    from specdsl.library.fourier.spectral import real_dft

    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    out = real_dft(x, dims, "forward")
    assert out.is_contiguous() and out.shape == x.shape
    expected = torch.fft.fftn(x, dim=dims, norm="forward").real
    assert (out - expected).abs().max().item() < 1e-12
    assert torch.autograd.gradcheck(lambda t: real_dft(t, dims, "forward"), (x,))


def test_spec_compiles_every_layer_and_argument() -> None:
    text = (
        "hidden_dim: 32\nmax_sequence_length: 64\nlayers: repeat 2 [fourier(forward),"
        " fourier_1d(fft_norm=backward, energy_tolerance=0.01),"
        " real_fourier(use_real_fft=false, norm_eps=1e-6), fourier_separable(mix_features=false,"
        " dropout=0.1)]"
    )
    model = specdsl.compile(specdsl.parse(text))
    assert model(inputs_embeds=torch.randn(2, 24, 32)).shape == (2, 24, 32)
    kinds = {type(m).__name__ for m in model.modules()}
    assert {
        "FourierMixing",
        "FourierMixing1D",
        "RealFourierMixing",
        "SeparableFourierMixing",
    } <= kinds


@pytest.mark.parametrize(
    "layer, message",
    [
        ("fourier(fft_norm=orto)", "did you mean 'ortho'"),
        ("fourier_separable(mix_features=false, mix_sequence=false)", "cannot both be false"),
        ("real_fourier(dropout=1.5)", "dropout"),
        ("fourier_1d(energy_tolerance=0)", "energy_tolerance"),
    ],
)
def test_bad_values_are_spec_errors(layer: str, message: str) -> None:
    with pytest.raises(specdsl.SpecError, match=message):
        specdsl.parse(f'hidden_dim: 16\nlayers: "{layer}"')


@pytest.mark.parametrize("name", ["fourier", "fourier_1d", "real_fourier", "fourier_separable"])
def test_causal_is_rejected_with_a_reason(name: str) -> None:
    with pytest.raises(specdsl.SpecError, match="cannot be causal: the"):
        specdsl.parse(f"hidden_dim: 16\ncausal: true\nlayers: [{name}]")


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: FourierMixing(0), "hidden_dim"),
        (lambda: FourierMixing1D(8, dropout=1.0), "dropout"),
        (lambda: RealFourierMixing(8, fft_norm="unit"), "fft_norm"),
        (lambda: SeparableFourierMixing(8, mix_features=False, mix_sequence=False), "mix_"),
    ],
)
def test_direct_construction_errors_name_the_argument(make, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        make()


@pytest.mark.parametrize(
    "shape, dims, sizes",
    [
        ((3, 7), (1,), None),
        ((3, 8), (-1,), None),
        ((2, 5, 6), (1, 2), None),
        ((2, 5, 7), (2, 1), None),  # the real FFT runs over the last listed axis
        ((2, 5, 4), (1,), (10,)),  # zero-padded, as the causal convolution's stages
        ((2, 5, 4), (1,), (9,)),
        ((6, 3), (0,), (12,)),
    ],
)
@pytest.mark.parametrize("norm", ["ortho", "forward", "backward"])
def test_lean_rfftn_equals_torch_and_keeps_nothing(shape, dims, sizes, norm: str) -> None:
    from specdsl.library.fourier.lean import rfftn

    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    expected = torch.fft.rfftn(x, s=sizes, dim=dims, norm=norm)
    torch.testing.assert_close(rfftn(x, dims, norm, sizes), expected, atol=1e-12, rtol=0)
    weights = torch.randn_like(torch.view_as_real(expected))

    def lean(t: torch.Tensor) -> torch.Tensor:
        return torch.view_as_real(rfftn(t, dims, norm, sizes))

    (grad,) = torch.autograd.grad((torch.view_as_real(expected) * weights).sum(), x)
    (lean_grad,) = torch.autograd.grad((lean(x) * weights).sum(), x)
    torch.testing.assert_close(lean_grad, grad, atol=1e-12, rtol=0)  # torch's own gradient
    assert torch.autograd.gradgradcheck(lean, x)
    saved: list[torch.Tensor] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        rfftn(x.clone(), dims, norm, sizes)
    assert saved == []


def test_lean_rfftn_refuses_cropping() -> None:
    from specdsl.library.fourier.lean import rfftn

    with pytest.raises(ValueError, match="sizes"):
        rfftn(torch.randn(2, 8), (1,), "ortho", (6,))


@pytest.mark.parametrize("shape", [(3, 70, 90), (2, 64, 5), (1, 33, 7)], ids=str)
def test_channels_first_round_trip(shape) -> None:
    from specdsl.library.fourier.spectral import channels_first, channels_last

    # tiled (B N a multiple of the tile) and not; above torch's 60 x 60 blocked threshold
    x = torch.randn(*shape, requires_grad=True)
    first = channels_first(x)
    first.backward(torch.arange(first.numel(), dtype=x.dtype).view_as(first))
    assert torch.equal(
        x.grad, torch.arange(first.numel(), dtype=x.dtype).view_as(first).permute(1, 2, 0)
    )
    x = x.detach()
    assert first.is_contiguous() and torch.equal(first, x.permute(2, 0, 1))
    back = channels_last(first)
    assert back.is_contiguous() and torch.equal(back, x)
