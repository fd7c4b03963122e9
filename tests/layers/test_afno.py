"""AFNO: the paper's block MLP on the truncated spectrum (plain loops), sizes, specs, costs
and the memory autograd keeps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import specdsl
from specdsl.library.afno import AFNOMixingConfig
from specdsl.library.afno.modules import AFNOMixing
from specdsl.library.base import Dims
from specdsl.testing import assert_cost_matches, assert_gradients_flow, build, held_for_backward

D, L = 8, 32
ACTIVATIONS = {
    "gelu": lambda t: F.gelu(torch.from_numpy(t)).numpy(),
    "relu": lambda t: np.maximum(t, 0.0),
    "silu": lambda t: t / (1 + np.exp(-t)),
    "tanh": np.tanh,
}


def complex_param(p: torch.Tensor) -> np.ndarray:
    return (p[0] + 1j * p[1]).detach().numpy()


def shrink(t: np.ndarray) -> np.ndarray:
    return np.sign(t) * np.maximum(np.abs(t) - 0.01, 0.0)


def afno_reference(module: AFNOMixing, x: np.ndarray) -> np.ndarray:
    """Guibas et al.: per batch, retained sequence mode and block, a complex 2-layer MLP."""
    batch, n, d = x.shape
    spectrum = np.fft.fft(np.fft.rfft(x, axis=1, norm="ortho"), axis=2, norm="ortho")
    kept_hidden = module.modes_hidden
    hidden = [*range((kept_hidden + 1) // 2), *range(d - kept_hidden // 2, d)]
    w1, b1 = complex_param(module.w1), complex_param(module.b1)
    w2, b2 = complex_param(module.w2), complex_param(module.b2)
    act, size = ACTIVATIONS[module.activation], module.block_size
    out = np.zeros_like(spectrum)
    for b in range(batch):
        for f in range(min(module.modes_seq, n // 2 + 1)):
            z = spectrum[b, f, hidden]
            mixed = np.zeros(kept_hidden, dtype=complex)
            for k in range(module.num_blocks):
                part = slice(k * size, (k + 1) * size)
                h = z[part] @ w1[k] + b1[k]
                h = act(h.real) + 1j * act(h.imag)
                o = h @ w2[k] + b2[k]
                mixed[part] = shrink(o.real) + 1j * shrink(o.imag)
            out[b, f, hidden] = mixed
    return np.fft.irfft(np.fft.ifft(out, axis=2, norm="ortho"), n, axis=1, norm="ortho")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "modes_seq": 3,
            "modes_hidden": 6,
            "num_blocks": 2,
            "mlp_ratio": 1.5,
            "activation": "tanh",
        },
        # every hidden bin: the hidden Nyquist bin D/2 is kept
        {"modes_hidden": 8, "num_blocks": 1, "activation": "relu"},
        {"activation": "silu", "modes_hidden": 3},  # odd number of hidden bins
        # the sequence Nyquist row kept (n = L); a block straddles positive/negative bins
        {"modes_seq": L // 2 + 1, "modes_hidden": 6, "num_blocks": 3},
        {"modes_hidden": 7, "num_blocks": 7, "mlp_ratio": 3.0},
    ],
)
@pytest.mark.parametrize("n", [L, 13, 40, 1])
def test_matches_block_mlp_reference(options: dict, n: int) -> None:
    module = AFNOMixing(D, L, **options).double()
    with torch.no_grad():  # weights large enough for the activations and the shrink to matter
        for p in module.parameters():
            p.mul_(20)
    x = torch.randn(2, n, D, dtype=torch.float64)
    np.testing.assert_allclose(
        module(x).detach().numpy(), afno_reference(module, x.numpy()), atol=1e-12, rtol=0
    )


def test_resolved_defaults_and_parameters_independent_of_length() -> None:
    module = AFNOMixing(32, 512)
    assert (module.modes_seq, module.modes_hidden, module.num_blocks) == (256, 16, 8)
    assert module.block_hidden == 4
    counts = {sum(p.numel() for p in AFNOMixing(32, length).parameters()) for length in (512, 2048)}
    assert len(counts) == 1
    config = AFNOMixingConfig(hidden_dim=32, max_sequence_length=2048)
    assert (config.modes_seq, config.modes_hidden, config.num_blocks) == (1024, 16, 8)
    assert AFNOMixing.from_config(config).modes_seq == 1024


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n", [13, 24])
def test_shape_dtype_and_gradients(dtype: torch.dtype, n: int) -> None:
    module = build(AFNOMixingConfig(hidden_dim=D, max_sequence_length=L, modes_seq=8))
    x = torch.randn(2, n, D, dtype=dtype)
    out = module(x, mask=None)
    assert out.shape == (2, n, D) and out.dtype == dtype
    assert_gradients_flow(module, out.square().sum())


@pytest.mark.parametrize(
    "config",
    [
        AFNOMixingConfig(hidden_dim=16, max_sequence_length=L),
        AFNOMixingConfig(
            hidden_dim=16, max_sequence_length=L, modes_seq=5, modes_hidden=12, mlp_ratio=0.5
        ),
    ],
)
@pytest.mark.parametrize("n", [L, 21])
def test_cost_matches(config: AFNOMixingConfig, n: int) -> None:
    assert_cost_matches(config, batch=2, seq_len=n)
    assert config.cost(specdsl.library.Dims(1, n, 16)).complexity == "O(n log n)"


def test_gradcheck_with_a_straddling_block_and_the_nyquist_row() -> None:
    module = AFNOMixing(6, 8, modes_seq=5, modes_hidden=6, num_blocks=3).double()
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(20)
    x = torch.randn(2, 8, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, *_: module(t), (x, *module.parameters()))


@pytest.mark.parametrize(
    "options",
    [{}, {"modes_hidden": 8, "dropout": 0.3}, {"modes_hidden": 6, "num_blocks": 3}],
)
@pytest.mark.parametrize("n", [L, 19])
def test_activation_bytes_are_what_autograd_keeps(options: dict, n: int) -> None:
    config = AFNOMixingConfig(hidden_dim=D, max_sequence_length=L, **options)
    module = build(config).train()
    x = torch.randn(2, n, D, requires_grad=True)
    expected = config.cost(Dims(2, n, D)).activation_bytes
    assert expected <= held_for_backward(module, x) <= expected + 64


def test_spec_compiles_every_argument() -> None:
    text = (
        'hidden_dim: 32\nmax_sequence_length: 64\nlayers: "repeat 2 ['
        "global_filter(activation=tanh),"
        " afno(modes_seq=8), afno(4, modes_hidden=8, mlp_ratio=1.0, activation=relu, dropout=0.1,"
        ' num_blocks=2)]"'
    )
    model = specdsl.compile(specdsl.parse(text))
    assert model(inputs_embeds=torch.randn(2, 24, 32)).shape == (2, 24, 32)
    afnos = [m for m in model.modules() if isinstance(m, AFNOMixing)]
    assert [m.modes_seq for m in afnos] == [8, 4, 8, 4]
    assert afnos[1].modes_hidden == 8 and afnos[1].num_blocks == 2 and afnos[0].modes_hidden == 16


@pytest.mark.parametrize(
    "layer, message",
    [
        ("afno(mlp_ratio=-1)", "mlp_ratio"),
        ("afno(modes_seq=100)", r"modes_seq must be in \[1, 33\]"),
        ("afno(modes_hidden=40)", r"modes_hidden must be in \[1, 32\]"),
        ("afno(modes_hidden=12, num_blocks=5)", "num_blocks"),
        ("afno(activation=gelo)", "did you mean 'gelu'"),
        ("afno(max_sequence_length=8)", "set by the model"),
    ],
)
def test_bad_values_are_spec_errors(layer: str, message: str) -> None:
    with pytest.raises(specdsl.SpecError, match=message):
        specdsl.parse(f'hidden_dim: 32\nmax_sequence_length: 64\nlayers: "{layer}"')


def test_causal_is_rejected_with_a_reason() -> None:
    with pytest.raises(specdsl.SpecError, match="cannot be causal: the truncated spectrum"):
        specdsl.parse("hidden_dim: 16\ncausal: true\nlayers: [afno]")


@pytest.mark.parametrize(
    "options, argument",
    [
        ({"modes_seq": 0}, "modes_seq"),
        ({"mlp_ratio": 0}, "mlp_ratio"),
        ({"activation": "softmax"}, "activation"),
        ({"modes_hidden": 6, "num_blocks": 4}, "num_blocks"),
        ({"dropout": -0.1}, "dropout"),
    ],
)
def test_direct_construction_errors_name_the_argument(options: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        AFNOMixing(D, L, **options)
