"""GFNet global filters: dense circulant references, resampling, exact causality, specs, costs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import specdsl
from specdsl.library import Dims
from specdsl.library.global_filter import (
    AdaptiveGlobalFilterConfig,
    GlobalFilterMixing2DConfig,
    GlobalFilterMixingConfig,
)
from specdsl.library.global_filter.modules import (
    AdaptiveGlobalFilter,
    GlobalFilterMixing,
    GlobalFilterMixing2D,
    resample_spectrum,
)
from specdsl.testing import (
    assert_causal,
    assert_cost_matches,
    assert_gradients_flow,
    build,
    held_for_backward,
)

D, L = 6, 16
ACT = {"sigmoid": lambda t: 1 / (1 + np.exp(-t)), "tanh": np.tanh, "identity": lambda t: t}
CONFIGS = {
    "global_filter": GlobalFilterMixingConfig(hidden_dim=D, sequence_length=L),
    "global_filter_causal": GlobalFilterMixingConfig(hidden_dim=D, sequence_length=L, causal=True),
    "adaptive": AdaptiveGlobalFilterConfig(hidden_dim=D, sequence_length=L, spectral_dropout_p=0.2),
    "adaptive_causal": AdaptiveGlobalFilterConfig(hidden_dim=D, sequence_length=L, causal=True),
    "global_filter_2d": GlobalFilterMixing2DConfig(hidden_dim=D, sequence_length=L),
}


def params(module: torch.nn.Module) -> tuple[np.ndarray, np.ndarray]:
    return (
        module.filter_real.detach().double().numpy(),
        module.filter_imag.detach().double().numpy(),
    )


def interpolate(values: np.ndarray, source: int, target: int, periodic: bool) -> np.ndarray:
    """Linear interpolation over normalised frequency with ``np.interp`` (column by column)."""
    if periodic:
        grid, at = np.arange(source) / source, np.arange(target) / target
        columns = [np.interp(at, grid, v, period=1.0) for v in values.T]
    else:
        grid, at = np.arange(source // 2 + 1) / source, np.arange(target // 2 + 1) / target
        columns = [np.interp(at, grid, v) for v in values.T]
    return np.stack(columns, axis=1)


def filter_values(module: torch.nn.Module, n: int, periodic: bool = False) -> np.ndarray:
    real, imag = (interpolate(p, L, n, periodic) for p in params(module))
    act = ACT[module.activation]
    return act(real) + 1j * act(imag)


def circulant_1d(h: np.ndarray) -> np.ndarray:
    """``C[t, s, d] = h[(t - s) mod n, d]``."""
    n = h.shape[0]
    t = np.arange(n)
    return h[(t[:, None] - t[None, :]) % n]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "identity"])
@pytest.mark.parametrize("n", [L, 11, 23])
def test_global_filter_is_a_circulant_convolution(activation: str, n: int) -> None:
    module = GlobalFilterMixing(D, L, activation=activation, filter_init_std=0.7).double()
    x = torch.randn(2, n, D, dtype=torch.float64)
    kernel = np.fft.irfft(filter_values(module, n), n, axis=0)
    expected = np.einsum("tsd,bsd->btd", circulant_1d(kernel), x.numpy())
    np.testing.assert_allclose(module(x).detach().numpy(), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("n", [L, 9, 40])
def test_global_filter_2d_is_a_2d_circulant_convolution(n: int) -> None:
    module = GlobalFilterMixing2D(D, L, activation="tanh", filter_init_std=0.7).double()
    x = torch.randn(2, n, D, dtype=torch.float64)
    kernel = np.fft.irfft2(filter_values(module, n, periodic=True), s=(n, D))
    t, c = np.arange(n), np.arange(D)
    lag_t = (t[:, None, None, None] - t[None, None, :, None]) % n
    lag_c = (c[None, :, None, None] - c[None, None, None, :]) % D
    expected = np.einsum("tcse,bse->btc", kernel[lag_t, lag_c], x.numpy())
    np.testing.assert_allclose(module(x).detach().numpy(), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("periodic", [False, True])
def test_resampling_is_identity_at_native_length_and_linear_elsewhere(periodic: bool) -> None:
    rows = L if periodic else L // 2 + 1
    values = torch.randn(rows, 3, dtype=torch.float64)
    assert resample_spectrum(values, L, L, periodic) is values
    for target in (7, 24, 33):
        out = resample_spectrum(values, L, target, periodic).numpy()
        np.testing.assert_allclose(
            out, interpolate(values.numpy(), L, target, periodic), atol=1e-14
        )


def causal_reference(module: GlobalFilterMixing, x: np.ndarray) -> np.ndarray:
    """``y[t] = sum_{k <= t, k < ceil(L/2)} h[k] x[t - k]`` with ``h = irfft(H, L)``."""
    kernel = np.fft.irfft(filter_values(module, L), L, axis=0)[: (L + 1) // 2]
    n = x.shape[1]
    lag = np.arange(n)[:, None] - np.arange(n)[None, :]
    valid = (lag >= 0) & (lag < kernel.shape[0])
    toeplitz = np.where(valid[..., None], kernel[np.clip(lag, 0, kernel.shape[0] - 1)], 0.0)
    return np.einsum("tsd,bsd->btd", toeplitz, x)


@pytest.mark.parametrize("cls", [GlobalFilterMixing, AdaptiveGlobalFilter])
@pytest.mark.parametrize("n", [16, 37, 64, 5])
def test_causal_filter_is_exactly_causal_and_matches_reference(cls, n: int) -> None:
    module = cls(D, L, filter_init_std=0.7, causal=True).double()
    x = torch.randn(2, n, D, dtype=torch.float64)
    assert_causal(module, x)
    np.testing.assert_allclose(
        module(x).detach().numpy(), causal_reference(module, x.numpy()), atol=1e-12, rtol=0
    )
    prefix = module(x[:, : n // 2 + 1])
    torch.testing.assert_close(module(x)[:, : n // 2 + 1], prefix, atol=1e-12, rtol=0)


def test_adaptive_filter_regularisation_initialisation_and_spectral_dropout() -> None:
    module = AdaptiveGlobalFilter(32, 64, filter_regularization=0.5, spectral_dropout_p=0.5)
    expected = 0.5 * (module.filter_real.square().sum() + module.filter_imag.square().sum())
    torch.testing.assert_close(module.get_regularization_loss(), expected)
    assert AdaptiveGlobalFilter(4, 8).get_regularization_loss().item() == 0.0
    spread = module.filter_real.abs().mean(dim=1)
    assert spread[:4].mean() > 2 * spread[-4:].mean(), "low frequencies start larger"
    plain = AdaptiveGlobalFilter(32, 64, adaptive_initialization=False).filter_real.abs().mean(1)
    assert plain[:4].mean() < 2 * plain[-4:].mean()
    x = torch.randn(2, 64, 32)
    module.train()
    assert not torch.allclose(module(x), module(x)), "spectral dropout acts in training"
    module.eval()
    torch.testing.assert_close(module(x), module(x))


def test_fixed_filters_are_buffers() -> None:
    module = GlobalFilterMixing(D, L, learnable_filters=False)
    assert sum(p.numel() for p in module.parameters()) == 0
    assert {"filter_real", "filter_imag"} <= dict(module.named_buffers()).keys()
    assert_cost_matches(
        GlobalFilterMixingConfig(hidden_dim=D, sequence_length=L, learnable_filters=False)
    )


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_gradients(name: str, dtype: torch.dtype) -> None:
    module = build(CONFIGS[name])
    x = torch.randn(2, 13, D, dtype=dtype)
    out = module(x, mask=None)
    assert out.shape == (2, 13, D) and out.dtype == dtype
    assert_gradients_flow(module, out.square().sum())


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("n", [L, 13, 40])
def test_cost_matches(name: str, n: int) -> None:
    assert_cost_matches(CONFIGS[name], batch=2, seq_len=n)


def test_spec_compiles_every_argument() -> None:
    text = (
        'hidden_dim: 32\nmax_sequence_length: 64\nlayers: "repeat 2 ['
        "global_filter(activation=tanh),"
        " global_filter(identity, learnable_filters=false, fft_norm=forward, filter_init_std=0.1,"
        " norm_eps=1e-6, dropout=0.1), global_filter_2d(tanh),"
        " adaptive_global_filter(filter_regularization=0.1, adaptive_initialization=false,"
        ' spectral_dropout_p=0.1, causal=true)]"'
    )
    model = specdsl.compile(specdsl.parse(text))
    assert model(inputs_embeds=torch.randn(2, 24, 32)).shape == (2, 24, 32)
    filters = [m for m in model.modules() if isinstance(m, GlobalFilterMixing)]
    assert {m.sequence_length for m in filters} == {64}
    assert any(m.causal for m in filters) and filters[0].activation == "tanh"


def test_causal_model_builds_causal_filters() -> None:
    spec = specdsl.parse(
        "hidden_dim: 16\nmax_sequence_length: 32\ncausal: true\nlayers: [global_filter]"
    )
    model = specdsl.compile(spec)
    assert [m.causal for m in model.modules() if isinstance(m, GlobalFilterMixing)] == [True]


@pytest.mark.parametrize(
    "text, message",
    [
        ("layers: [global_filter(activation=sigmod)]", "did you mean 'sigmoid'"),
        ("layers: [global_filter(sequence_length=8)]", "set by the model"),
        ("layers: [adaptive_global_filter(spectral_dropout_p=1.0)]", "spectral_dropout_p"),
        ("layers: [global_filter(filter_init_std=-1)]", "filter_init_std"),
        ("causal: true\nlayers: [global_filter_2d]", "cannot be causal: the 2-D filter"),
    ],
)
def test_bad_values_are_spec_errors(text: str, message: str) -> None:
    with pytest.raises(specdsl.SpecError, match=message):
        specdsl.parse(f"hidden_dim: 16\n{text}")


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: GlobalFilterMixing(8, 0), "sequence_length"),
        (lambda: GlobalFilterMixing(8, 8, activation="relu"), "activation"),
        (lambda: AdaptiveGlobalFilter(8, 8, spectral_dropout_p=1.0), "spectral_dropout_p"),
        (lambda: GlobalFilterMixing2D(0, 8), "hidden_dim"),
    ],
)
def test_direct_construction_errors_name_the_argument(make, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        make()


def test_2d_rejects_a_wrong_width() -> None:
    with pytest.raises(ValueError, match=r"\(B, N, 6\)"):
        GlobalFilterMixing2D(D, L)(torch.randn(2, 5, 7))


#: Configurations whose saved-for-backward memory differs (see ``kept_filter``).
MEMORY_CONFIGS = {
    **CONFIGS,
    "identity": GlobalFilterMixingConfig(hidden_dim=D, sequence_length=L, activation="identity"),
    "fixed": GlobalFilterMixingConfig(hidden_dim=D, sequence_length=L, learnable_filters=False),
    "fixed_causal": GlobalFilterMixingConfig(
        hidden_dim=D, sequence_length=L, learnable_filters=False, causal=True
    ),
    "identity_causal": GlobalFilterMixingConfig(
        hidden_dim=D, sequence_length=L, activation="identity", causal=True
    ),
    "dropout_identity": AdaptiveGlobalFilterConfig(
        hidden_dim=D, sequence_length=L, spectral_dropout_p=0.5, activation="identity"
    ),
    "dropout_causal": AdaptiveGlobalFilterConfig(
        hidden_dim=D, sequence_length=L, spectral_dropout_p=0.5, causal=True
    ),
    "dropout_fixed": AdaptiveGlobalFilterConfig(
        hidden_dim=D, sequence_length=L, spectral_dropout_p=0.5, learnable_filters=False
    ),
    "2d_fixed_tanh": GlobalFilterMixing2DConfig(
        hidden_dim=D, sequence_length=L, learnable_filters=False, activation="tanh"
    ),
}


@pytest.mark.parametrize("name", MEMORY_CONFIGS)
@pytest.mark.parametrize("n", [L, 13, 40, 1])
def test_activation_bytes_are_what_autograd_keeps(name: str, n: int) -> None:
    config = MEMORY_CONFIGS[name]
    x = torch.randn(2, n, D, requires_grad=True)
    held = held_for_backward(build(config), x)
    assert held > 0
    assert config.cost(Dims(2, n, D)).activation_bytes == held


@pytest.mark.parametrize("name", ["global_filter", "global_filter_causal", "global_filter_2d"])
@pytest.mark.parametrize("n", [L, 11])
def test_gradients_to_input_and_filter(name: str, n: int) -> None:
    module = build(CONFIGS[name].model_copy(update={"filter_init_std": 0.5})).double()
    x = torch.randn(2, n, D, dtype=torch.float64, requires_grad=True)
    real, imag = (
        p.detach().clone().requires_grad_() for p in (module.filter_real, module.filter_imag)
    )

    def run(x: torch.Tensor, real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
        filters = {"filter_real": real, "filter_imag": imag}
        return torch.func.functional_call(module, filters, (x,))

    assert torch.autograd.gradcheck(run, (x, real, imag))


@pytest.mark.parametrize("name", CONFIGS)
def test_inference_equals_training_graph(name: str) -> None:
    # Without autograd the filter product runs in place on the spectrum.
    module = build(CONFIGS[name]).eval()
    x = torch.randn(2, 13, D)
    with torch.no_grad():
        fast = module(x)
    torch.testing.assert_close(fast, module(x), atol=0, rtol=0)
