"""Wavelet mixers: PyWavelets references, exact causality, level mixing, specs and costs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import pywt
import torch

import specdsl
from specdsl.library.wavelet import (
    WAVELETS,
    WaveletMixing2DConfig,
    WaveletMixingConfig,
    causal_delay,
    grid_shape,
)
from specdsl.library.wavelet.modules import WaveletMixing, WaveletMixing2D
from specdsl.testing import assert_causal, assert_cost_matches, assert_gradients_flow, build
from specdsl.transforms import SUPPORTED_WAVELETS

D = 4


def randomise(module: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p))
    return module


def band_rule(module: WaveletMixing, index: int, band: np.ndarray) -> np.ndarray:
    """Pointwise or channel mixing of one pywt band ``(B, D, m)``."""
    weight = module.band_weight[index].detach().numpy()
    if module.mixing_mode == "channel":
        return np.einsum("ce,bcm->bem", weight, band)
    return band * weight[:, None]


def level_rule(module: WaveletMixing, bands: list[np.ndarray]) -> list[np.ndarray]:
    """Level mixing written out: target k of level j reads k, floor(k / 2^s) - shift (coarser
    source, s levels up) or 2^s (k + 1) - 1 (finer source); out of range reads 0."""
    levels = [module.levels, *range(module.levels, 0, -1)]
    weight = module.level_weight.detach().numpy()
    shift = int(module.causal)
    out = []
    for target, band in enumerate(bands):
        mixed = np.zeros_like(band)
        for k in range(band.shape[-1]):
            for source, other in enumerate(bands):
                step = levels[source] - levels[target]
                if step > 0:
                    src = (k >> step) - shift
                elif step == 0:
                    src = k
                else:
                    src = ((k + 1) << -step) - 1
                if 0 <= src < other.shape[-1]:
                    mixed[..., k] += weight[target, source] * other[..., src]
        out.append(mixed)
    return out


def pywt_reference(module: WaveletMixing, x: np.ndarray) -> np.ndarray:
    """pywt.wavedec -> mixing -> pywt.waverec on the channels-first signal."""
    n = x.shape[1]
    signal = np.swapaxes(x, 1, 2)
    mode = "zero" if module.causal else "symmetric"
    if module.causal:
        signal = np.pad(signal, ((0, 0), (0, 0), (module.delay, 0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pywt warns about levels deeper than it advises
        bands = pywt.wavedec(signal, module.wavelet, mode=mode, level=module.levels, axis=-1)
    if module.mixing_mode == "level":
        bands = level_rule(module, bands)
    else:
        bands = [band_rule(module, i, band) for i, band in enumerate(bands)]
    out = pywt.waverec(bands, module.wavelet, mode=mode, axis=-1)[..., :n]
    return np.swapaxes(out, 1, 2)


@pytest.mark.parametrize("mode", ["pointwise", "channel", "level"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(
    "wavelet, levels, n", [("db2", 2, 30), ("haar", 3, 17), ("db4", 3, 12), ("sym4", 2, 90)]
)
def test_matches_pywt_reference(mode: str, causal: bool, wavelet: str, levels: int, n: int) -> None:
    module = randomise(WaveletMixing(D, wavelet, levels, mode, causal=causal).double())
    x = torch.randn(2, n, D, dtype=torch.float64)
    np.testing.assert_allclose(
        module(x).detach().numpy(), pywt_reference(module, x.numpy()), atol=1e-12, rtol=0
    )


@pytest.mark.parametrize("mode", ["pointwise", "channel", "level"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("wavelet, levels, n", [("db4", 6, 70), ("coif5", 5, 40), ("haar", 9, 300)])
def test_deep_decompositions_chain_stages_and_match_pywt(
    mode: str, causal: bool, wavelet: str, levels: int, n: int
) -> None:
    """Deeper than one stage (``plan.stage_levels``): each stage transforms the previous
    one's approximation, exactly pywt's recursion."""
    module = randomise(WaveletMixing(D, wavelet, levels, mode, causal=causal).double())
    assert len(module.plans(n)) > 1
    x = torch.randn(2, n, D, dtype=torch.float64)
    np.testing.assert_allclose(
        module(x).detach().numpy(), pywt_reference(module, x.numpy()), atol=1e-11, rtol=0
    )


@pytest.mark.parametrize("mode", ["pointwise", "channel", "level"])
@pytest.mark.parametrize("causal", [False, True])
def test_identity_weights_reconstruct_the_input(mode: str, causal: bool) -> None:
    module = WaveletMixing(D, "db3", 2, mode, causal=causal).double()
    x = torch.randn(2, 21, D, dtype=torch.float64)
    delay = causal_delay("db3", 2) if causal else 0
    assert module.delay == delay and causal_delay("db3", 2) == (2**2 - 1) * (6 - 1)
    expected = torch.nn.functional.pad(x, (0, 0, delay, 0))[:, :21]
    torch.testing.assert_close(module(x), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize(
    "mode, wavelet, n",
    [
        ("pointwise", "db4", 16),
        ("pointwise", "db4", 37),
        ("channel", "db4", 37),
        ("level", "db4", 16),
        ("level", "db4", 37),
        ("pointwise", "haar", 37),
        ("level", "bior2.2", 16),
    ],
)
def test_causal_is_exact(mode: str, wavelet: str, n: int) -> None:
    module = randomise(WaveletMixing(D, wavelet, 3, mode, causal=True).double())
    assert_causal(module, torch.randn(2, n, D, dtype=torch.float64))


def pywt_reference_2d(module: WaveletMixing2D, image: torch.Tensor) -> np.ndarray:
    """pywt.wavedec2 -> per-subband scale or channel map -> pywt.waverec2, cropped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pywt warns about levels deeper than it advises
        coeffs = pywt.wavedec2(image.numpy(), module.wavelet, "symmetric", module.levels)
    weight = module.band_weight.detach().numpy()
    rule = "ce,bchw->behw" if module.mixing_mode == "channel" else "c,bchw->bchw"
    mixed = [np.einsum(rule, weight[0], coeffs[0])]
    for level, details in enumerate(coeffs[1:]):
        first = 1 + 3 * level
        mixed.append(tuple(np.einsum(rule, weight[first + k], d) for k, d in enumerate(details)))
    out = pywt.waverec2(mixed, module.wavelet, mode="symmetric", axes=(-2, -1))
    return out[..., : image.shape[-2], : image.shape[-1]]


@pytest.mark.parametrize("mode", ["subband", "channel"])
def test_2d_matches_pywt_on_images_and_token_grids(mode: str) -> None:
    """A small grid: dense plans (``subband``: the compact layout of filled slots only)."""
    module = randomise(WaveletMixing2D(3, "db2", 2, mode).double())
    image = torch.randn(2, 3, 9, 7, dtype=torch.float64)
    (stage,) = module.stages(9, 7, image)
    assert stage.plan_h.dense and stage.plan_w.dense and stage.packed == (mode == "subband")
    expected = pywt_reference_2d(module, image)
    np.testing.assert_allclose(module(image).detach().numpy(), expected, atol=1e-12, rtol=0)
    tokens = torch.randn(2, 22, 3, dtype=torch.float64)
    height, width = grid_shape(22)
    assert (height, width) == (5, 5)
    grid = torch.nn.functional.pad(tokens, (0, 0, 0, 3)).view(2, 5, 5, 3).permute(0, 3, 1, 2)
    from_grid = module(grid).permute(0, 2, 3, 1).reshape(2, 25, 3)[:, :22]
    torch.testing.assert_close(module(tokens), from_grid)


@pytest.mark.parametrize("mode", ["subband", "channel"])
def test_2d_matches_pywt_on_a_large_image(mode: str) -> None:
    """Block products with separate end corrections (no dense matrix, no compact grid)."""
    module = randomise(WaveletMixing2D(2, "db2", 2, mode).double())
    image = torch.randn(1, 2, 30, 27, dtype=torch.float64)
    (stage,) = module.stages(30, 27, image)
    plans = (stage.plan_h, stage.plan_w)
    assert not any(plan.dense for plan in plans) and all(plan.edges for plan in plans)
    assert not stage.packed
    expected = pywt_reference_2d(module, image)
    np.testing.assert_allclose(module(image).detach().numpy(), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("mode", ["subband", "channel"])
@pytest.mark.parametrize("size", [(40, 37), (9, 12)])
def test_2d_deep_decompositions_chain_stages_and_match_pywt(mode, size) -> None:
    module = randomise(WaveletMixing2D(2, "db8", 5, mode).double())
    image = torch.randn(1, 2, *size, dtype=torch.float64)
    assert len(module.stages(*size, image)) == 2  # db8: 3 levels per stage
    expected = pywt_reference_2d(module, image)
    np.testing.assert_allclose(module(image).detach().numpy(), expected, atol=1e-11, rtol=0)


def test_2d_subband_scales() -> None:
    module = WaveletMixing2D(3, "haar", 1, "subband").double()
    with torch.no_grad():
        module.band_weight[1:] = 0.0  # keep only the approximation: a 2x2 block average
    image = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    blocks = image.view(1, 3, 2, 2, 2, 2).mean(dim=(3, 5), keepdim=True)
    expected = blocks.expand(1, 3, 2, 2, 2, 2).reshape(1, 3, 4, 4)
    torch.testing.assert_close(module(image), expected)


CONFIGS = [
    WaveletMixingConfig(hidden_dim=D),
    WaveletMixingConfig(hidden_dim=D, wavelet="haar", levels=2, mixing_mode="channel"),
    WaveletMixingConfig(hidden_dim=D, wavelet="sym3", mixing_mode="level", causal=True),
    WaveletMixingConfig(hidden_dim=D, wavelet="db2", mixing_mode="channel", causal=True),
    WaveletMixing2DConfig(channels=D),
    WaveletMixing2DConfig(channels=D, wavelet="haar", levels=3, mixing_mode="channel"),
    WaveletMixingConfig(hidden_dim=D, wavelet="coif5", levels=5, mixing_mode="level"),
    WaveletMixingConfig(hidden_dim=D, wavelet="db8", levels=7, mixing_mode="channel"),
    WaveletMixing2DConfig(channels=D, wavelet="db8", levels=5),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_gradients(config, dtype: torch.dtype) -> None:
    module = build(config)
    x = torch.randn(2, 13, D, dtype=dtype)
    out = module(x, mask=None)
    assert out.shape == (2, 13, D) and out.dtype == dtype
    assert_gradients_flow(module, out.square().sum())


@pytest.mark.parametrize(
    "config",
    [
        *CONFIGS,  # and a deep causal one, whose latency exceeds these lengths
        WaveletMixingConfig(hidden_dim=D, wavelet="db8", levels=7, causal=True),
    ],
)
@pytest.mark.parametrize("n", [16, 23, 150])
def test_cost_matches(config, n: int) -> None:
    assert_cost_matches(config, batch=2, seq_len=n)
    assert config.cost(specdsl.library.Dims(1, n, D)).complexity == "O(n)"


def test_wavelet_names_match_the_transforms() -> None:
    assert WAVELETS == SUPPORTED_WAVELETS


def test_spec_compiles_every_argument() -> None:
    text = (
        'hidden_dim: 32\nmax_sequence_length: 64\nlayers: "repeat 2 [wavelet(db4),'
        " wavelet(haar, levels=2, mixing_mode=channel, dropout=0.1),"
        " wavelet(sym4, mixing_mode=level, causal=true), wavelet_2d(db2, levels=1,"
        ' mixing_mode=channel)]"'
    )
    model = specdsl.compile(specdsl.parse(text))
    assert model(inputs_embeds=torch.randn(2, 24, 32)).shape == (2, 24, 32)
    mixers = [m for m in model.modules() if isinstance(m, (WaveletMixing, WaveletMixing2D))]
    assert [type(m).__name__ for m in mixers[:4]] == ["WaveletMixing"] * 3 + ["WaveletMixing2D"]
    assert mixers[2].causal and mixers[1].mixing_mode == "channel" and mixers[3].channels == 32


def test_causal_model_builds_causal_wavelets() -> None:
    spec = specdsl.parse("hidden_dim: 16\ncausal: true\nlayers: [wavelet(levels=2)]")
    assert [m.causal for m in specdsl.compile(spec).modules() if isinstance(m, WaveletMixing)] == [
        True
    ]


@pytest.mark.parametrize(
    "layer, message",
    [
        ("wavelet(db99)", "wavelet: Input should be 'haar'"),
        ("wavelet(sym9)", "did you mean 'sym8'"),
        ("wavelet(levels=0)", "levels"),
        ("wavelet(levels=11)", "levels"),
        ("wavelet(mixing_mode=levels)", "did you mean 'level'"),
        ("wavelet_2d(mixing_mode=pointwise)", "mixing_mode"),
        ("wavelet_2d(channels=8)", "set by the model"),
    ],
)
def test_bad_values_are_spec_errors(layer: str, message: str) -> None:
    with pytest.raises(specdsl.SpecError, match=message):
        specdsl.parse(f'hidden_dim: 16\nlayers: "{layer}"')


def test_2d_causal_is_rejected_with_a_reason() -> None:
    with pytest.raises(specdsl.SpecError, match="cannot be causal: the 2-D transform"):
        specdsl.parse("hidden_dim: 16\ncausal: true\nlayers: [wavelet_2d]")


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: WaveletMixing(8, "db99"), "wavelet"),
        (lambda: WaveletMixing(8, levels=0), "levels"),
        (lambda: WaveletMixing(8, mixing_mode="subband"), "mixing_mode"),
        (lambda: WaveletMixing2D(8, levels=11), "levels"),
        (lambda: WaveletMixing2D(0), "channels"),
    ],
)
def test_direct_construction_errors_name_the_argument(make, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        make()


def test_2d_rejects_other_layouts() -> None:
    with pytest.raises(ValueError, match=r"\(B, N, 4\)"):
        WaveletMixing2D(D)(torch.randn(2, 5, 3))
