"""Properties every registered token mixer must have, driven by the registry.

Adding a layer to the library automatically puts it under these tests.
"""

import pytest
import torch

import specdsl
from specdsl.library import REGISTRY
from specdsl.testing import assert_causal

MIXERS = sorted(name for name, entry in REGISTRY.items() if entry.kind == "mixer")
D = 8


def small_spec(name: str, causal: bool = False, extra: str = "") -> str:
    fields = REGISTRY[name].config.model_fields
    args = [
        a
        for a, ok in (("num_heads=4", "num_heads" in fields), ("levels=1", "levels" in fields))
        if ok
    ]
    return (
        f"hidden_dim: {D}\nmax_sequence_length: 24\npositional_encoding: none\n"
        f"causal: {str(causal).lower()}\n{extra}layers: {name}({', '.join(args)})\n"
    )


def mixer_of(model: torch.nn.Module) -> torch.nn.Module:
    return model.blocks[0].mixer


def run_mixer(mixer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = mixer(x)
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", MIXERS)
def test_gradcheck_float64(name: str) -> None:
    mixer = mixer_of(specdsl.load(small_spec(name))).double()
    x = torch.randn(1, 7, D, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: run_mixer(mixer, t), (x,), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", MIXERS)
def test_dtype_follows_input(name: str) -> None:
    mixer = mixer_of(specdsl.load(small_spec(name))).eval()
    for dtype in (torch.float32, torch.float64):
        out = run_mixer(mixer, torch.randn(2, 11, D, dtype=dtype))
        assert out.dtype == dtype and out.shape == (2, 11, D)


@pytest.mark.parametrize("name", MIXERS)
def test_padding_never_reaches_real_positions(name: str) -> None:
    model = specdsl.load(small_spec(name)).eval()
    mask = torch.ones(2, 13, dtype=torch.bool)
    mask[0, 9:] = False
    mask[1, 5:] = False
    x = torch.randn(2, 13, D)
    noisy = torch.where(mask[..., None], x, 100 * torch.randn_like(x))
    with torch.no_grad():
        a = model(inputs_embeds=x, attention_mask=mask)
        b = model(inputs_embeds=noisy, attention_mask=mask)
    assert torch.allclose(a[mask], b[mask], atol=1e-6)


@pytest.mark.parametrize("name", MIXERS)
def test_causal_is_exact_or_refused(name: str) -> None:
    if REGISTRY[name].causal is not None:
        with pytest.raises(specdsl.SpecError, match="cannot be causal"):
            specdsl.parse(small_spec(name, causal=True))
        return
    model = specdsl.load(small_spec(name, causal=True)).double()
    for n in (8, 13):
        x = torch.randn(1, n, D, dtype=torch.float64)
        assert_causal(lambda t: model(inputs_embeds=t), x)


@pytest.mark.parametrize("name", MIXERS)
def test_layer_mixes_tokens(name: str) -> None:
    """Changing one token changes the mixer's output at some other position.

    Parameters are perturbed first: a learnable mixer may start as the identity
    (wavelet mixing, AFNO's soft-thresholded MLP), but it must be able to mix.
    """
    mixer = mixer_of(specdsl.load(small_spec(name))).eval()
    with torch.no_grad():
        for parameter in mixer.parameters():
            parameter.add_(0.5 * torch.randn_like(parameter))
    x = torch.randn(1, 9, D)
    y = x.clone()
    y[0, 0] += 1.0
    with torch.no_grad():
        a, b = run_mixer(mixer, x), run_mixer(mixer, y)
    assert not torch.allclose(a[0, 1:], b[0, 1:], atol=1e-7)
