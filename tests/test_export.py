"""torch.export and torch.compile on a small compiled model of every family (docs/export.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch.export import Dim

import specdsl
from specdsl.library import REGISTRY

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
try:  # one DSL layer per family of the benchmarks, plus ``hybrid``
    from models import FAMILIES
finally:
    sys.path.remove(str(BENCHMARKS))
#: Mixers whose exported program accepts any sequence length (docs/export.md says why the
#: others specialise on the length they were exported at).
DYNAMIC_LENGTH = (
    "fourier",
    "real_fourier",
    "fourier_separable",
    "spectral_attention",
    "performer",
    "kernel_attention",
    "attention",
)
DOC = Path(__file__).resolve().parents[1] / "docs" / "export.md"


def small_model(layers: str) -> torch.nn.Module:
    """One block per layer of ``layers`` at width 16, inputs up to 32 positions."""
    text = f'hidden_dim: 16\nmax_sequence_length: 32\nlayers: "{layers}"'
    return specdsl.compile(text, seed=0).eval()


def inputs(n: int = 12, padded: int = 3) -> dict[str, torch.Tensor]:
    """Embeddings ``(2, n, 16)`` and a mask with ``padded`` trailing pads in row 1."""
    mask = torch.ones(2, n, dtype=torch.bool)
    mask[1, n - padded :] = False
    generator = torch.Generator().manual_seed(n)
    return {"inputs_embeds": torch.randn(2, n, 16, generator=generator), "attention_mask": mask}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_export_matches_eager(family: str) -> None:
    model = small_model(FAMILIES[family])
    kwargs = inputs()
    program = torch.export.export(model, (), kwargs)
    torch.testing.assert_close(program.module()(**kwargs), model(**kwargs), atol=1e-6, rtol=0)


@pytest.mark.parametrize("layer", DYNAMIC_LENGTH)
def test_export_with_a_dynamic_length(layer: str) -> None:
    model = small_model(layer)
    n = Dim("n", min=2, max=32)
    program = torch.export.export(
        model,
        (),
        inputs(),
        dynamic_shapes={"inputs_embeds": {1: n}, "attention_mask": {1: n}},
    )
    other = inputs(n=21, padded=5)
    torch.testing.assert_close(program.module()(**other), model(**other), atol=1e-6, rtol=0)


def test_export_doc_covers_every_mixer() -> None:
    text = DOC.read_text()
    mixers = [name for name, entry in REGISTRY.items() if entry.kind == "mixer"]
    missing = [name for name in mixers if f"`{name}`" not in text]
    assert not missing, f"docs/export.md does not mention {missing}"
    assert all(f"`{name}`" in text.split("## Dynamic")[1] for name in DYNAMIC_LENGTH)


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_torch_compile_matches_eager(family: str) -> None:
    from torch._dynamo.testing import CompileCounterWithBackend

    torch._dynamo.reset()
    model = small_model(FAMILIES[family])
    counter = CompileCounterWithBackend("inductor")
    compiled = torch.compile(model, backend=counter)
    kwargs = inputs()
    with torch.no_grad():
        torch.testing.assert_close(compiled(**kwargs), model(**kwargs), atol=1e-5, rtol=1e-5)
    assert counter.frame_count >= 1  # it compiled, rather than falling back to eager


def test_traced_lst_dct_without_a_mask_matches_eager() -> None:
    """Eager inference projects DCT heads in the DCT domain; traced programs take the
    time-domain path (docs/export.md): both agree, and the eager path really is the other."""
    model = small_model("lst(dct)")
    x = inputs()["inputs_embeds"]
    with torch.no_grad():
        eager = model(inputs_embeds=x)
        program = torch.export.export(model, (), {"inputs_embeds": x})
        torch.testing.assert_close(program.module()(inputs_embeds=x), eager, atol=1e-6, rtol=0)
    with torch.no_grad(), torch.profiler.profile(record_shapes=True) as prof:
        model(inputs_embeds=x)
    transformed = [e.input_shapes[0] for e in prof.events() if e.name == "aten::_fft_r2c"]
    assert transformed == [[16, 2, 12]]  # the D = 16 channels of x, not 3 H d = 48
