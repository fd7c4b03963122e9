"""LST family: the formula against dense float64 matrices, the causal variant, head groups."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import scipy.linalg
import torch

import specdsl
from specdsl.library import Dims
from specdsl.library.lst import LSTAttentionConfig, MixedTransformAttentionConfig, _grouped
from specdsl.library.lst._fast import cosine_twiddles, reorder_index, triple_product
from specdsl.library.lst._spectral import packed_coefficients, unpacked_product
from specdsl.library.lst.modules import (
    DCTAttention,
    HadamardAttention,
    LSTAttention,
    MixedSpectralAttention,
    SpectralProductAttention,
)
from specdsl.testing import build, held_for_backward


def transform_pair(kind: str, n: int, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``(T, T^-1)`` of one transform: ``T`` is ``(s, n)``, the inverse ``(n, s)``."""
    if kind in ("dct", "dst"):
        fn = scipy.fft.dct if kind == "dct" else scipy.fft.dst
        matrix = fn(np.eye(n), axis=0, norm="ortho" if normalize else None)
        return matrix, np.linalg.inv(matrix)
    if kind == "hadamard":
        m = 1 << (n - 1).bit_length()
        matrix = scipy.linalg.hadamard(m) / (np.sqrt(m) if normalize else 1.0)
        return matrix[:, :n], np.linalg.inv(matrix)[:n]
    matrix = np.fft.fft(np.eye(n), axis=0, norm="ortho")  # complex DFT; the result is real
    return matrix, np.linalg.inv(matrix)


def dense_lst(layer: SpectralProductAttention, x: torch.Tensor, causal: bool) -> np.ndarray:
    """``W_o (T^-1(T q * T k * T v) * scale)`` per head with explicit matrices.

    Causal: output ``t`` is the same formula on the input with every position after ``t``
    zeroed in q, k and v (a loop over ``t``, fine in a test).
    """
    b, n, _ = x.shape
    h, d = layer.num_heads, layer.head_dim
    w, bias = layer.qkv.weight.detach().numpy(), layer.qkv.bias
    qkv = x.numpy() @ w.T + (0.0 if bias is None else bias.detach().numpy())
    qkv = qkv.reshape(b, n, 3, h, d)
    scale = np.ones((h, d)) if layer.scale is None else layer.scale.detach().numpy()[..., 0]
    heads = np.zeros((b, n, h, d))
    for head, kind in enumerate(layer.head_transforms):
        forward, inverse = transform_pair(kind, n, layer.normalize)
        q, k, v = (qkv[:, :, i, head] for i in range(3))
        stops = range(n) if causal else [n - 1]
        for t in stops:
            keep = (np.arange(n) <= t)[None, :, None]
            spectra = [np.einsum("fi,bic->bfc", forward, z * keep) for z in (q, k, v)]
            y = np.einsum("tf,bfc->btc", inverse, spectra[0] * spectra[1] * spectra[2]).real
            rows = slice(t, t + 1) if causal else slice(None)
            heads[:, rows, head] = y[:, rows] * scale[head]
    out = heads.reshape(b, n, h * d) @ layer.out_proj.weight.detach().numpy().T
    return out + (0.0 if layer.out_proj.bias is None else layer.out_proj.bias.detach().numpy())


def randomise_scale(layer: SpectralProductAttention) -> SpectralProductAttention:
    if layer.scale is not None:
        with torch.no_grad():
            layer.scale.uniform_(0.5, 1.5)
    return layer.double()


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("kind", ["dct", "dst", "hadamard", "mixed"])
def test_lst_equals_dense_formula(kind: str, normalize: bool, causal: bool) -> None:
    layer = randomise_scale(LSTAttention(12, 3, kind, normalize=normalize, causal=causal))
    for n in (8, 11):
        x = torch.randn(2, n, 12, dtype=torch.float64) * 0.5
        expected = dense_lst(layer, x, causal)
        np.testing.assert_allclose(layer(x).detach().numpy(), expected, atol=1e-10, rtol=1e-9)


@pytest.mark.parametrize("causal", [False, True])
def test_mixed_spectral_attention_equals_dense_formula(causal: bool) -> None:
    layer = randomise_scale(MixedSpectralAttention(12, 4, causal=causal))
    assert layer.head_transforms == ("fft", "fft", "dct", "hadamard")
    for n in (8, 11):
        x = torch.randn(2, n, 12, dtype=torch.float64) * 0.5
        np.testing.assert_allclose(
            layer(x).detach().numpy(), dense_lst(layer, x, causal), atol=1e-10
        )


@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("kind", ["dct", "dst", "hadamard", "mixed"])
def test_heads_add_the_bias_in_the_spectra_unless_masked(
    kind: str, use_bias: bool, grad: bool
) -> None:
    """Without a mask the q, k, v bias enters the spectra (DCT, DST and, at a power-of-two
    length, Walsh-Hadamard heads; the in-projection is a bare product: one ``addmm`` left,
    the output's); with a mask the projection adds it, as padding must zero it. DST heads
    sign their tokens (a signed copy with autograd, ``-W`` on the second half without):
    the caller's input is untouched. All equal the formula."""
    layer = randomise_scale(LSTAttention(12, 3, kind, use_bias=use_bias))
    if use_bias:
        with torch.no_grad():
            layer.qkv.bias.uniform_(-1.0, 1.0)  # large enough that a wrong term shows
    x = torch.randn(2, 8, 12, dtype=torch.float64) * 0.5
    before = x.clone()
    expected = dense_lst(layer, x, causal=False)
    for mask, addmms in ((None, 1), (torch.ones(2, 8, dtype=torch.bool), 2)):
        with torch.profiler.profile() as prof, torch.set_grad_enabled(grad):
            out = layer(x, mask=mask)
        count = sum(event.name == "aten::addmm" for event in prof.events())
        assert count == (addmms if use_bias else 0)
        np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-10, rtol=1e-9)
    assert torch.equal(x, before)


class SpectralCalls:
    """Counts the passes that project in the DCT domain (``lst._spectral``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = _grouped.dct_heads_in_spectra

        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(_grouped, "dct_heads_in_spectra", counted)


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("normalize", [True, False])
def test_dct_heads_project_in_the_dct_domain_without_autograd(
    normalize: bool, use_bias: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under no_grad, without a mask, DCT-only layers transform x once and project its
    coefficients (packed, both parities of n, n = 2 upwards): equal to the formula, and to
    the layer in Makhoul order."""
    calls = SpectralCalls(monkeypatch)
    layer = randomise_scale(LSTAttention(12, 3, "dct", normalize=normalize, use_bias=use_bias))
    if use_bias:
        with torch.no_grad():
            layer.qkv.bias.uniform_(-1.0, 1.0)
    lengths = (2, 3, 4, 5, 8, 11, 16)
    for n in lengths:
        x = torch.randn(2, n, 12, dtype=torch.float64) * 0.5
        with torch.no_grad():
            out = layer(x)
            order, restore = reorder_index(n, x.device)
            ordered = layer(x[:, order], token_order="makhoul")[:, restore]
        expected = dense_lst(layer, x, causal=False)
        np.testing.assert_allclose(out.numpy(), expected, atol=1e-10, rtol=1e-9)
        np.testing.assert_allclose(ordered.numpy(), expected, atol=1e-10, rtol=1e-9)
    assert calls.count == 2 * len(lengths)


@pytest.mark.parametrize(
    ("kind", "n", "masked", "grad"),
    [
        ("dct", 8, True, False),  # a mask zeroes q, k, v in the time domain
        ("dct", 8, False, True),  # autograd: the time-domain path
        ("dct", 1, False, False),
        ("dst", 8, False, False),
        ("mixed", 8, False, False),
        ("hadamard", 8, False, False),
    ],
)
def test_other_passes_keep_the_time_domain_path(
    kind: str, n: int, masked: bool, grad: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = SpectralCalls(monkeypatch)
    layer = randomise_scale(LSTAttention(12, 3, kind))
    x = torch.randn(2, n, 12, dtype=torch.float64)
    mask = torch.ones(2, n, dtype=torch.bool) if masked else None
    with torch.set_grad_enabled(grad):
        out = layer(x, mask=mask)
    np.testing.assert_allclose(out.detach().numpy(), dense_lst(layer, x, False), atol=1e-10)
    assert calls.count == 0


def test_dct_domain_path_applies_the_same_dropout(monkeypatch: pytest.MonkeyPatch) -> None:
    """In training mode without autograd the dropout on the mixed heads is drawn as in the
    time-domain path (same shape, same generator state): the outputs are equal."""
    layer = randomise_scale(LSTAttention(12, 3, "dct", dropout=0.5)).train()
    x = torch.randn(2, 9, 12, dtype=torch.float64)
    with torch.no_grad():
        torch.manual_seed(3)
        fast = layer(x)
        monkeypatch.setattr(_grouped, "projects_in_spectra", lambda *args: False)
        torch.manual_seed(3)
        slow = layer(x)
    torch.testing.assert_close(fast, slow, atol=1e-12, rtol=1e-10)
    assert not torch.allclose(fast, layer.eval()(x))  # dropout did act


@pytest.mark.parametrize("n", [2, 3, 4, 7, 10])
def test_packed_coefficients_multiply_like_the_half_spectra(n: int) -> None:
    """Packing three twiddled spectra, multiplying and unpacking gives the half spectrum of
    ``prod Re + i prod Im`` of the unpacked ones (the time-domain path's product)."""
    into, _ = cosine_twiddles(n, True, torch.float64, torch.device("cpu"))
    spectra = torch.fft.rfft(torch.randn(3, 4, n, dtype=torch.float64), dim=-1) * into
    expected = torch.view_as_complex(triple_product(torch.view_as_real(spectra)))
    packed = [packed_coefficients(s.clone(), n) for s in spectra]
    torch.testing.assert_close(unpacked_product(*packed, n), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["dct", "hadamard", "mixed"])
def test_causal_output_is_the_layer_on_the_prefix(kind: str) -> None:
    """Causal output t equals the non-causal layer at t with the future masked as padding."""
    causal = randomise_scale(LSTAttention(12, 3, kind, causal=True))
    full = LSTAttention(12, 3, kind).double()
    full.load_state_dict(causal.state_dict())
    x = torch.randn(1, 11, 12, dtype=torch.float64)
    out = causal(x)
    prefixes = torch.arange(11)[None, :] <= torch.arange(11)[:, None]  # row t keeps 0..t
    masked = full(x.expand(11, -1, -1), mask=prefixes)
    torch.testing.assert_close(out[0], masked[torch.arange(11), torch.arange(11)])


def test_causal_values_ignore_the_future() -> None:
    layer = LSTAttention(12, 3, "mixed", causal=True).double()
    x = torch.randn(1, 11, 12, dtype=torch.float64)
    changed = x.clone()
    changed[:, 6:] = torch.randn(1, 5, 12, dtype=torch.float64)
    assert torch.equal(layer(x)[:, :6], layer(changed)[:, :6])


def test_heads_are_split_into_contiguous_groups() -> None:
    assert (
        LSTAttention(16, 8, "mixed").head_transforms
        == ("dct",) * 3 + ("dst",) * 3 + ("hadamard",) * 2
    )
    layer = MixedSpectralAttention(18, use_dct=False)
    assert layer.head_transforms == ("fft",) * 5 + ("hadamard",) * 4
    assert (
        MixedSpectralAttention(27).head_transforms
        == ("fft",) * 3 + ("dct",) * 3 + ("hadamard",) * 3
    )


def test_documented_subclasses_keep_their_arguments() -> None:
    dct = DCTAttention(16, 4)
    assert isinstance(dct, LSTAttention)
    assert (dct.transform_type, dct.dct_type, dct.normalize) == ("dct", 2, True)
    hadamard = HadamardAttention(16, 4, scale_by_sqrt=False, learnable_scale=False)
    assert (hadamard.transform_type, hadamard.normalize, hadamard.scale) == (
        "hadamard",
        False,
        None,
    )
    assert LSTAttention(16).head_dim == 2


def test_hadamard_on_a_non_power_of_two_matches_explicit_padding() -> None:
    """Length 11 runs at 16: the same as padding q, k, v with zeros and cropping."""
    layer = randomise_scale(HadamardAttention(8, 2))
    x = torch.randn(1, 11, 8, dtype=torch.float64)
    np.testing.assert_allclose(layer(x).detach().numpy(), dense_lst(layer, x, False), atol=1e-12)


@pytest.mark.parametrize(
    ("construct", "name"),
    [
        (lambda: LSTAttention(16, 4, "fft"), "transform_type"),
        (lambda: LSTAttention(16, 2, "mixed"), "num_heads"),
        (lambda: DCTAttention(16, 4, dct_type=3), "dct_type"),
        (lambda: MixedSpectralAttention(16, 4, False, False, False), "use_fft"),
        (lambda: MixedSpectralAttention(16, 2), "num_heads"),
        (lambda: HadamardAttention(16, 4, dropout=-0.1), "dropout"),
    ],
)
def test_bad_constructor_arguments_name_the_argument(construct, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        construct()


def test_bad_configs_are_spec_errors() -> None:
    with pytest.raises(specdsl.SpecError, match="use_fft, use_dct, use_hadamard"):
        call = "mixed_spectral_attention(use_fft=false, use_dct=false, use_hadamard=false)"
        specdsl.parse(f'hidden_dim: 18\nlayers: "{call}"')
    with pytest.raises(specdsl.SpecError, match="needs num_heads >= 3"):
        specdsl.parse('hidden_dim: 16\nlayers: "lst(mixed, num_heads=2)"')


def test_cost_counts_transforms_and_causal_prefix_operators() -> None:
    dims = Dims(batch=1, seq_len=1000, hidden_dim=16)
    fast = LSTAttentionConfig(hidden_dim=16, num_heads=4, transform_type="hadamard").cost(dims)
    slow = LSTAttentionConfig(
        hidden_dim=16, num_heads=4, transform_type="hadamard", causal=True
    ).cost(dims)
    # Hadamard at 1024 = 32 x 32: 16 columns x 4 transforms x two radix-32 products
    # (2 x 1024 x 32 each) of matmul; other: two products per column and the scale (16 000)
    assert fast.matmul_flops - slow.matmul_flops == 16 * 4 * 2 * (2 * 1024 * 32)
    assert fast.other_flops == 16 * 2 * 1024 + 16 * 1000
    assert slow.other_flops == 16 * 10 * 1000 * 1024 + 16 * 1000
    assert (fast.complexity, slow.complexity) == ("O(n log n)", "O(n^2)")
    mixed = MixedTransformAttentionConfig(hidden_dim=18).cost(Dims(1, 1000, 18))
    assert mixed.params == 4 * 18 * 18 + 4 * 18  # projections only: no scale


# -- gradients of the causal prefix product (a custom backward) ---------------------------


def dense_causal_torch(layer: SpectralProductAttention, x: torch.Tensor) -> torch.Tensor:
    """The causal layer as one differentiable dense float64 formula (no chunks, no loops):
    ``P[t, f] = sum_{i <= t} T[f, i] x_i``, ``y_t = Re sum_f G[t, f] P_q P_k P_v``."""
    b, n, _ = x.shape
    h, d = layer.num_heads, layer.head_dim
    qkv = (x @ layer.qkv.weight.T + layer.qkv.bias).view(b, n, 3, h, d)
    tril = torch.ones(n, n, dtype=torch.float64).tril()
    heads = []
    for head, kind in enumerate(layer.head_transforms):
        forward, inverse = (
            torch.from_numpy(m).to(torch.complex128)
            for m in transform_pair(kind, n, layer.normalize)
        )
        z = qkv[:, :, :, head].to(torch.complex128)  # (B, n, 3, d)
        prefix = torch.einsum("ti,fi,bikc->kbtfc", tril.to(z.dtype), forward, z)
        y = torch.einsum("tf,btfc->btc", inverse, prefix[0] * prefix[1] * prefix[2]).real
        heads.append(y * (1.0 if layer.scale is None else layer.scale[head, :, 0]))
    out = torch.stack(heads, dim=2).reshape(b, n, h * d)
    return out @ layer.out_proj.weight.T + layer.out_proj.bias


def layer_gradients(layer: torch.nn.Module, fn, x: torch.Tensor, cotangent: torch.Tensor):
    x = x.detach().clone().requires_grad_(True)
    params = [x, *layer.parameters()]
    return torch.autograd.grad((fn(x) * cotangent).sum(), params)


@pytest.mark.parametrize(
    "build",
    [
        lambda: LSTAttention(12, 3, "dct", causal=True),
        lambda: LSTAttention(12, 3, "dst", normalize=False, causal=True),
        lambda: LSTAttention(12, 3, "mixed", causal=True),
        lambda: MixedSpectralAttention(12, 4, causal=True),
        lambda: HadamardAttention(8, 2, scale_by_sqrt=False, causal=True),
    ],
)
def test_causal_gradients_equal_the_dense_formula(build) -> None:
    """The custom backward (reverse chunks, prefix sums recovered by subtraction) against
    autograd through the dense formula, for the input and every parameter."""
    layer = randomise_scale(build())
    x = torch.randn(2, 11, layer.hidden_dim, dtype=torch.float64)
    cotangent = torch.randn(2, 11, layer.hidden_dim, dtype=torch.float64)
    ours = layer_gradients(layer, layer, x, cotangent)
    dense = layer_gradients(layer, lambda t: dense_causal_torch(layer, t), x, cotangent)
    for got, expected in zip(ours, dense, strict=True):
        torch.testing.assert_close(got, expected, atol=1e-10, rtol=1e-9)
        assert got.abs().sum() > 0


@pytest.mark.parametrize("family", ["cosine", "hadamard", "fourier"])
def test_prefix_product_passes_gradcheck(family: str) -> None:
    from specdsl.library.lst._mixing import PrefixProduct, _modulation, _operators

    n = 10  # chunks of 4, 4, 2
    qkv = torch.randn(3, 2, 2, 3, n, dtype=torch.float64, requires_grad=True)
    forward_t, inverse = _operators(family, n, True, torch.float64, qkv.device)
    signs = _modulation(2, 1, n, torch.float64, qkv.device) if family == "cosine" else None
    assert torch.autograd.gradcheck(
        lambda z: PrefixProduct.apply(z, forward_t, inverse, signs), (qkv,), eps=1e-6, atol=1e-6
    )


def test_causal_float32_gradient_stays_accurate_at_length_256() -> None:
    """Backward recovers each chunk's starting sums by subtraction: the float32 gradient
    must still match float64 closely (no drift over the 16 chunks)."""
    layer = LSTAttention(16, 2, "dct", causal=True)
    x = torch.randn(1, 256, 16)
    cotangent = torch.randn(1, 256, 16)
    single = layer_gradients(layer, layer, x, cotangent)[0]
    double = layer_gradients(layer.double(), layer, x.double(), cotangent.double())[0]
    error = (single.double() - double).abs().max() / double.abs().max()
    assert error < 1e-5, error


# -- activation memory: the formula equals what a training forward keeps ---------------


@pytest.mark.parametrize(
    "config",
    [
        LSTAttentionConfig(hidden_dim=24, num_heads=4),
        LSTAttentionConfig(hidden_dim=24, num_heads=4, causal=True),
        LSTAttentionConfig(hidden_dim=24, num_heads=4, transform_type="dst"),
        LSTAttentionConfig(hidden_dim=24, num_heads=4, transform_type="dst", use_bias=False),
        LSTAttentionConfig(hidden_dim=24, num_heads=4, transform_type="hadamard"),
        LSTAttentionConfig(hidden_dim=24, num_heads=4, transform_type="mixed", dropout=0.1),
        LSTAttentionConfig(hidden_dim=24, num_heads=4, transform_type="mixed", causal=True),
        MixedTransformAttentionConfig(hidden_dim=18, num_heads=3),
        MixedTransformAttentionConfig(hidden_dim=18, num_heads=3, causal=True),
    ],
    ids=[
        "dct",
        "dct-causal",
        "dst",
        "dst-no-bias",
        "hadamard",
        "mixed-dropout",
        "mixed-causal",
        "fft-mixed",
        "fft-causal",
    ],
)
def test_activation_bytes_equal_the_memory_kept_for_backward(config) -> None:

    layer = build(config)
    for n in (13, 16):  # the Hadamard heads of mixed layers join the DCT pass at 16
        x = torch.randn(2, n, config.hidden_dim, requires_grad=True)
        expected = config.cost(Dims(2, n, config.hidden_dim)).activation_bytes
        assert held_for_backward(layer, x) == expected, n


def test_causal_memory_grows_linearly_with_length() -> None:
    """Kept for backward: q, k, v and the prefix sums over the whole sequence, O(n) per
    column (it used to be O(n^2) through checkpointed chunks that kept their inputs)."""
    config = LSTAttentionConfig(hidden_dim=16, num_heads=2, learnable_scale=False, causal=True)

    layer = build(config)
    short, long = (held_for_backward(layer, torch.randn(1, n, 16)) for n in (64, 128))
    assert long == 2 * short
