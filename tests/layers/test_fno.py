"""FNO: truncated-spectrum complex products against dense references, exact causality, costs
and the memory autograd keeps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import specdsl
import specdsl.library.fno.modules as fno_modules
from specdsl.library.base import Dims
from specdsl.library.fno import FourierNeuralOperatorConfig, uses_truncated_dft
from specdsl.library.fno._spectral import truncated_dft
from specdsl.library.fno.modules import (
    FNOBlock,
    FourierNeuralOperator,
    SpectralConv1d,
    SpectralConv2d,
)
from specdsl.testing import (
    assert_causal,
    assert_cost_matches,
    assert_gradients_flow,
    build,
    held_for_backward,
)

D, L = 8, 32


def complex_weight(p: torch.Tensor) -> np.ndarray:
    return (p[0] + 1j * p[1]).detach().numpy()


def dense_dft(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward ``exp(-2 pi i k t / n)`` and inverse ``exp(2 pi i t k / n) / n`` matrices."""
    k = np.arange(n)
    forward = np.exp(-2j * np.pi * np.outer(k, k) / n)
    return forward, forward.conj().T / n


def spectral_conv_reference(conv: SpectralConv1d, x: np.ndarray) -> np.ndarray:
    """Full DFT, multiply modes ``|k| < modes`` (and their mirror images) by ``R_k``, inverse."""
    n = x.shape[1]
    forward, inverse = dense_dft(n)
    spectrum = np.einsum("kt,bti->bki", forward, x)
    weight = complex_weight(conv.weight)
    out = np.zeros((*spectrum.shape[:2], conv.out_channels), dtype=complex)
    for k in range(min(conv.modes, n // 2 + 1)):
        out[:, k] = spectrum[:, k] @ weight[k]
        if k > 0 and 2 * k != n:  # the negative frequency carries the conjugate product
            out[:, n - k] = spectrum[:, n - k] @ weight[k].conj()
    if n % 2 == 0 and conv.modes > n // 2:  # irfft keeps the real part of the Nyquist bin
        out[:, n // 2] = out[:, n // 2].real
    out[:, 0] = out[:, 0].real
    return np.einsum("tk,bko->bto", inverse, out).real


@pytest.mark.parametrize("modes, n", [(5, 16), (5, 7), (9, 16), (3, 3), (2, 1), (4, 2)])
@pytest.mark.parametrize("truncated_dft_path", [True, False])
def test_spectral_conv1d_matches_dense_reference(
    modes: int, n: int, truncated_dft_path: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both paths (matrix products with the truncated DFT, rfft/irfft) give the reference."""
    monkeypatch.setattr(fno_modules, "uses_truncated_dft", lambda n, kept: truncated_dft_path)
    conv = SpectralConv1d(3, 4, modes).double()
    with torch.no_grad():
        conv.weight.normal_()
    x = torch.randn(2, n, 3, dtype=torch.float64)
    np.testing.assert_allclose(
        conv(x).detach().numpy(), spectral_conv_reference(conv, x.numpy()), atol=1e-12, rtol=0
    )


@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_truncated_dft_matrices_are_rfft_and_irfft(n: int) -> None:
    for kept in sorted({1, n // 2 + 1}):
        analysis, synthesis = truncated_dft(n, kept, torch.float64, torch.device("cpu"))
        x = np.random.default_rng(n).standard_normal((n, 3))
        spectrum = np.fft.rfft(x, axis=0)[:kept]
        np.testing.assert_allclose(
            analysis.numpy() @ x, np.concatenate((spectrum.real, spectrum.imag)), atol=1e-12
        )
        bins = np.zeros((n // 2 + 1, 3), dtype=complex)
        bins[:kept] = spectrum + 1j  # imaginary parts of DC and Nyquist are ignored
        pairs = np.concatenate(((spectrum + 1j).real, (spectrum + 1j).imag))
        np.testing.assert_allclose(
            synthesis.numpy() @ pairs, np.fft.irfft(bins, n, axis=0), atol=1e-12
        )
        assert (analysis[kept:][torch.arange(kept) * 2 % n == 0] == 0).all()


@pytest.mark.parametrize("truncated_dft_path", [True, False])
def test_gradcheck_of_both_paths_and_the_grid(
    truncated_dft_path: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fno_modules, "uses_truncated_dft", lambda n, kept: truncated_dft_path)
    x = torch.randn(2, 7, 3, dtype=torch.float64, requires_grad=True)
    line = FourierNeuralOperator(3, 3, "tanh").double()
    grid = FourierNeuralOperator(3, 3, "tanh", use_2d=True, spatial_dim=3).double()
    for module in (line, grid):
        inputs = (x, *module.parameters())
        assert torch.autograd.gradcheck(lambda t, *_, m=module: m(t), inputs, atol=1e-8)


def test_path_follows_the_flop_ratio() -> None:
    assert uses_truncated_dft(8192, 16) and uses_truncated_dft(512, 90)
    assert not uses_truncated_dft(512, 100) and not uses_truncated_dft(1, 1)
    fast = FourierNeuralOperatorConfig(hidden_dim=D, modes=16)
    slow = FourierNeuralOperatorConfig(hidden_dim=D, modes=200)
    assert fast.cost(Dims(1, 4096, D)).complexity == "O(n)"
    assert slow.cost(Dims(1, 512, D)).complexity == "O(n log n)"


@pytest.mark.parametrize("h, w", [(6, 8), (3, 5), (1, 4), (4, 4)])
def test_spectral_conv2d_matches_mode_loop(h: int, w: int) -> None:
    conv = SpectralConv2d(3, 4, 2, 3).double()
    x = torch.randn(2, h, w, 3, dtype=torch.float64)
    spectrum = np.fft.rfft2(x.numpy(), axes=(1, 2))
    w1, w2 = complex_weight(conv.weight1), complex_weight(conv.weight2)
    out = np.zeros((2, h, w // 2 + 1, 4), dtype=complex)
    for row in range(h):
        freq = row if row <= (h - 1) // 2 else row - h  # signed frequency of the row
        for col in range(min(3, w // 2 + 1)):
            if 0 <= freq < 2:
                out[:, row, col] = spectrum[:, row, col] @ w1[freq, col]
            elif -2 <= freq < 0:
                out[:, row, col] = spectrum[:, row, col] @ w2[2 + freq, col]
    expected = np.fft.irfft2(out, s=(h, w), axes=(1, 2))
    np.testing.assert_allclose(conv(x).detach().numpy(), expected, atol=1e-12, rtol=0)


def test_operator_is_activation_of_both_paths() -> None:
    module = FourierNeuralOperator(D, 4, activation="tanh").double()
    x = torch.randn(2, 11, D, dtype=torch.float64)
    linear = F.linear(x, module.linear.weight, module.linear.bias)
    torch.testing.assert_close(module(x), torch.tanh(module.spectral_conv(x) + linear))
    only = FourierNeuralOperator(D, 4, activation="identity", use_linear=False).double()
    torch.testing.assert_close(only(x), only.spectral_conv(x))


def test_grid_operator_applies_the_2d_convolution_to_the_token_grid() -> None:
    module = FourierNeuralOperator(D, 2, "identity", use_2d=True, spatial_dim=5).double()
    x = torch.randn(2, 22, D, dtype=torch.float64)
    grid = F.pad(x, (0, 0, 0, 3)).view(2, 5, 5, D)
    spectral = module.spectral_conv(grid).reshape(2, 25, D)[:, :22]
    linear = F.linear(x, module.linear.weight, module.linear.bias)
    torch.testing.assert_close(module(x), spectral + linear)
    with pytest.raises(ValueError, match="do not fit"):
        module(torch.randn(1, 26, D, dtype=torch.float64))


def causal_reference(conv: SpectralConv1d, x: np.ndarray, length: int) -> np.ndarray:
    """``y[t] = sum_{k <= t, k < ceil(length/2)} x[t-k] @ h[k]``, ``h = irfft(R, length)``."""
    kernel = np.fft.irfft(complex_weight(conv.weight), length, axis=0)[: (length + 1) // 2]
    out = np.zeros((*x.shape[:2], conv.out_channels))
    for t in range(x.shape[1]):
        for k in range(min(t + 1, kernel.shape[0])):
            out[:, t] += x[:, t - k] @ kernel[k]
    return out


@pytest.mark.parametrize("n", [32, 19, 64, 6])
def test_causal_operator_is_exactly_causal_and_matches_reference(n: int) -> None:
    module = FourierNeuralOperator(D, 5, activation="identity", causal=True, max_sequence_length=L)
    module = module.double()
    x = torch.randn(2, n, D, dtype=torch.float64)
    assert_causal(module, x)
    linear = F.linear(x, module.linear.weight, module.linear.bias).detach().numpy()
    expected = causal_reference(module.spectral_conv, x.numpy(), L) + linear
    np.testing.assert_allclose(module(x).detach().numpy(), expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(module(x)[:, :4], module(x[:, :4]), atol=1e-12, rtol=0)


def test_causal_gradients_through_the_checkpoint_match_direct_ones() -> None:
    """The causal convolution is recomputed in backward; its gradients are unchanged."""
    module = FourierNeuralOperator(D, 5, causal=True, max_sequence_length=L).double()
    x = torch.randn(2, 19, D, dtype=torch.float64, requires_grad=True)
    weights = list(module.spectral_conv.parameters())
    direct = module.spectral_conv._causal(x, L)
    checkpointed = module.spectral_conv.causal_forward(x, L)
    torch.testing.assert_close(checkpointed, direct, atol=0, rtol=0)
    probe = torch.randn_like(direct)
    expected = torch.autograd.grad((direct * probe).sum(), [x, *weights])
    measured = torch.autograd.grad((checkpointed * probe).sum(), [x, *weights])
    for got, want in zip(measured, expected, strict=True):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)


def test_causal_without_reference_length_uses_the_input_length() -> None:
    module = FourierNeuralOperator(D, 5, causal=True).double()
    x = torch.randn(1, 12, D, dtype=torch.float64)
    assert_causal(module, x)
    expected = causal_reference(module.spectral_conv, x.numpy(), 12)
    out = module.spectral_conv.causal_forward(x).detach().numpy()
    np.testing.assert_allclose(out, expected, atol=1e-12, rtol=0)


CONFIGS = [
    FourierNeuralOperatorConfig(hidden_dim=D, modes=4),
    FourierNeuralOperatorConfig(hidden_dim=D, modes=90, activation="relu", use_linear=False),
    FourierNeuralOperatorConfig(hidden_dim=D, use_spectral_conv=False, activation="silu"),
    FourierNeuralOperatorConfig(hidden_dim=D, modes=4, causal=True, max_sequence_length=L),
    FourierNeuralOperatorConfig(hidden_dim=D, modes=2, use_2d=True, spatial_dim=6),
    FourierNeuralOperatorConfig(
        hidden_dim=D, modes=5, use_2d=True, spatial_dim=6, use_linear=False, activation="tanh"
    ),
    FourierNeuralOperatorConfig(
        hidden_dim=D, modes=3, causal=True, use_linear=False, activation="identity"
    ),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_gradients(config: FourierNeuralOperatorConfig, dtype: torch.dtype) -> None:
    module = build(config)
    x = torch.randn(2, 13, D, dtype=dtype)
    out = module(x, mask=None)
    assert out.shape == (2, 13, D) and out.dtype == dtype
    assert_gradients_flow(module, out.square().sum())


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("n", [L, 19, 256])
def test_cost_matches(config: FourierNeuralOperatorConfig, n: int) -> None:
    """At n = 256 the second config runs rfft/irfft, the others the truncated DFT."""
    if config.use_2d and n > config.spatial_dim**2:
        n = config.spatial_dim**2
    assert_cost_matches(config, batch=2, seq_len=n)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("n", [36, 19, 256])
def test_activation_bytes_are_what_autograd_keeps(
    config: FourierNeuralOperatorConfig, n: int
) -> None:
    if config.use_2d and n > config.spatial_dim**2:
        n = config.spatial_dim**2
    module = build(config).train()
    x = torch.randn(2, n, D, requires_grad=True)
    expected = config.cost(Dims(2, n, D)).activation_bytes
    assert expected <= held_for_backward(module, x) <= expected + 64


def test_fno_block_is_a_residual_block() -> None:
    block = FNOBlock(D, modes=4, ffn_hidden_dim=16, causal=True, max_sequence_length=L).double()
    x = torch.randn(2, 10, D, dtype=torch.float64)
    out = block(x)
    assert out.shape == x.shape
    assert_causal(block, x)
    assert_gradients_flow(block, out.square().sum())


def test_spec_compiles_every_argument() -> None:
    text = (
        'hidden_dim: 32\nmax_sequence_length: 64\nlayers: "repeat 2 [fno(8), fno(modes=4,'
        " activation=tanh, use_spectral_conv=true, use_linear=false, causal=true, dropout=0.1),"
        ' fno(2, use_2d=true, spatial_dim=8)]"'
    )
    model = specdsl.compile(specdsl.parse(text))
    assert model(inputs_embeds=torch.randn(2, 24, 32)).shape == (2, 24, 32)
    layers = [m for m in model.modules() if isinstance(m, FourierNeuralOperator)]
    assert [(m.modes, m.causal, m.linear is None) for m in layers[:2]] == [
        (8, False, False),
        (4, True, True),
    ]
    assert {m.max_sequence_length for m in layers} == {64}
    assert layers[2].use_2d and isinstance(layers[2].spectral_conv, SpectralConv2d)


def test_causal_model_builds_causal_operators() -> None:
    spec = specdsl.parse("hidden_dim: 16\nmax_sequence_length: 32\ncausal: true\nlayers: [fno]")
    assert [
        m.causal for m in specdsl.compile(spec).modules() if isinstance(m, FourierNeuralOperator)
    ] == [True]


@pytest.mark.parametrize(
    "layer, message",
    [
        ("fno(modes=0)", "modes"),
        ("fno(activation=gelo)", "did you mean 'gelu'"),
        ("fno(use_spectral_conv=false, use_linear=false)", "cannot both be false"),
        ("fno(max_sequence_length=8)", "set by the model"),
        ("fno(use_2d=true)", "needs spatial_dim"),
        ("fno(use_2d=true, spatial_dim=4)", r"max_sequence_length \(64\) <= spatial_dim\*\*2"),
        ("fno(use_2d=true, spatial_dim=8, causal=true)", "cannot be causal"),
    ],
)
def test_bad_values_are_spec_errors(layer: str, message: str) -> None:
    with pytest.raises(specdsl.SpecError, match=message):
        specdsl.parse(f'hidden_dim: 16\nmax_sequence_length: 64\nlayers: "{layer}"')


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: SpectralConv1d(0, 4, 2), "in_channels"),
        (lambda: SpectralConv2d(2, 4, 2, 0), "modes2"),
        (lambda: FourierNeuralOperator(8, activation="swish"), "activation"),
        (lambda: FourierNeuralOperator(8, use_spectral_conv=False, use_linear=False), "use_"),
        (lambda: FourierNeuralOperator(8, max_sequence_length=0), "max_sequence_length"),
        (lambda: FourierNeuralOperator(8, use_2d=True), "spatial_dim"),
        (lambda: FourierNeuralOperator(8, use_2d=True, spatial_dim=4, causal=True), "causal"),
    ],
)
def test_direct_construction_errors_name_the_argument(make, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        make()


def test_causal_decoder_of_fourier_type_layers_is_exactly_causal() -> None:
    spec = specdsl.parse(
        "hidden_dim: 8\nmax_sequence_length: 32\ncausal: true\n"
        'layers: "fno(4), wavelet(levels=2), global_filter, adaptive_global_filter"'
    )
    model = specdsl.compile(spec).double().eval()
    for n in (32, 21):
        x = torch.randn(1, n, 8, dtype=torch.float64)
        assert_causal(lambda h: model(inputs_embeds=h), x)
