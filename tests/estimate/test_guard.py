"""Resource limits (issue 9): refused in milliseconds, naming the figure and the way out."""

from __future__ import annotations

import time

import pytest

import specdsl
from specdsl.guard import check_limits

SMALL = "hidden_dim: 32\nmax_sequence_length: 64\n"


def _refused(text: str, **limits) -> tuple[str, float]:
    spec = specdsl.parse(text)
    start = time.perf_counter()
    with pytest.raises(specdsl.SpecError) as err:
        check_limits(spec, **limits)
    return str(err.value), time.perf_counter() - start


def test_a_billion_repeats_is_refused_in_milliseconds() -> None:
    message, elapsed = _refused(SMALL + 'layers: "repeat 1000000000 [fourier]"')
    assert elapsed < 0.05
    assert "1,000,000,000 blocks" in message and "10,000" in message
    assert "max_blocks=" in message and "--max-blocks" in message


def test_a_trillion_wide_model_is_refused_in_milliseconds() -> None:
    message, elapsed = _refused("hidden_dim: 1000000000000\nlayers: fourier")
    assert elapsed < 0.05
    assert "parameters, over the limit of 2,000,000,000" in message
    assert "max_params=" in message and "--max-params" in message


def test_parameter_bytes_and_activation_limits() -> None:
    text = SMALL + "layers: fourier"
    message, _ = _refused(text, max_param_bytes=1000)
    assert "bytes of float32 parameters" in message and "max_param_bytes=" in message
    message, _ = _refused(text, max_activation_bytes=1000)
    assert "activation bytes per sample at n=64" in message and "--max-activation-bytes" in message


def test_raised_or_disabled_limits_let_the_spec_through() -> None:
    spec = specdsl.parse(SMALL + 'layers: "repeat 20000 [fourier]"')
    with pytest.raises(specdsl.SpecError):
        check_limits(spec)
    check_limits(spec, max_blocks=20_000)
    check_limits(spec, max_blocks=None)
    wide = specdsl.parse("hidden_dim: 1000000\nlayers: fourier")
    check_limits(wide, max_params=None, max_param_bytes=None, max_activation_bytes=None)


def test_every_documented_architecture_is_within_the_default_limits() -> None:
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[2] / "architectures").glob("*.*")):
        check_limits(specdsl.parse(path))


def test_compile_passes_limits_through() -> None:
    with pytest.raises(specdsl.SpecError, match="max_params"):
        specdsl.compile(SMALL + "layers: fourier", max_params=10)


@pytest.mark.parametrize("value", [0, -5, "big", True])
def test_limits_must_be_positive_numbers(value) -> None:
    with pytest.raises(ValueError, match="max_params must be a positive number or None"):
        check_limits(specdsl.parse(SMALL + "layers: fourier"), max_params=value)
