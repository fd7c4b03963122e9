"""Block plans of the wavelet mixers: exact against PyWavelets, adjoints, loop-free forwards,
memory kept for backward equal to the estimate."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
import pywt
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from specdsl.library import Dims
from specdsl.library.wavelet import WaveletMixing2DConfig, WaveletMixingConfig, grid_shape
from specdsl.library.wavelet.modules import WaveletMixing, WaveletMixing2D
from specdsl.library.wavelet.ops import analysis, linear, synthesis
from specdsl.library.wavelet.ops2d import pyramid
from specdsl.library.wavelet.plan import AxisPlan, axis_plan, compact_grid
from specdsl.testing import build, held_for_backward

#: (wavelet, levels, n, mode, offset, dense): both regimes, odd lengths, a causal offset.
CASES = [
    ("db4", 3, 12, "symmetric", 0, True),
    ("db4", 3, 203, "symmetric", 0, False),
    ("db2", 2, 30, "symmetric", 0, False),
    ("haar", 3, 17, "symmetric", 0, False),
    ("sym5", 2, 61, "symmetric", 0, False),
    ("bior2.4", 4, 100, "symmetric", 0, True),
    ("coif2", 1, 9, "symmetric", 0, True),
    ("db3", 2, 5, "zero", 15, False),
    ("db4", 3, 37, "zero", 49, False),
    ("db2", 2, 3, "zero", 0, True),
]


def to_blocks(plan: AxisPlan, bands: list[np.ndarray]) -> np.ndarray:
    """pywt bands ``(G, d, m_j)`` (slot order) as ``(G blocks, slots, d)``."""
    groups, width = bands[0].shape[:2]
    out = np.zeros((groups, plan.blocks, plan.slots, width))
    for (level, _), start, band in zip(plan.outputs, plan.slot_starts(), bands, strict=True):
        count = 1 << (plan.levels - level)
        padded = np.zeros((groups, width, plan.blocks * count))
        kept = min(band.shape[-1], plan.blocks * count)
        padded[..., :kept] = band[..., :kept]
        blocks = padded.reshape(groups, width, plan.blocks, count).transpose(0, 2, 3, 1)
        out[:, :, start : start + count] = blocks
    return out.reshape(groups * plan.blocks, plan.slots, width)


@pytest.mark.parametrize("wavelet, levels, n, mode, offset, dense", CASES)
def test_block_products_equal_pywt(wavelet, levels, n, mode, offset, dense) -> None:
    plan = axis_plan(wavelet, levels, n + offset, mode, False)
    assert plan.dense == dense
    x = torch.randn(2, n, 3, dtype=torch.float64)
    signal = np.pad(x.numpy(), ((0, 0), (offset, 0), (0, 0))).transpose(0, 2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # levels deeper than pywt advises
        bands = pywt.wavedec(signal, wavelet, mode=mode, level=levels, axis=-1)
    coefficients = linear(x, analysis(plan, offset, x))
    count = 2 * plan.blocks
    np.testing.assert_allclose(coefficients[:count].numpy(), to_blocks(plan, bands), atol=1e-12)
    assert not coefficients[count:].any()  # the slack is zero
    other = [np.random.default_rng(0).standard_normal(b.shape) for b in bands]
    expected = pywt.waverec(other, wavelet, mode=mode, axis=-1)[..., :n].transpose(0, 2, 1)
    buffer = torch.cat((torch.tensor(to_blocks(plan, other)), coefficients[count:]))
    np.testing.assert_allclose(linear(buffer, synthesis(plan, n, x)).numpy(), expected, atol=1e-12)


def assert_adjoint(op, x: torch.Tensor) -> None:
    """``<op x, y> == <x, op* y>`` for random ``x`` and ``y``."""
    y = torch.randn_like(op.apply(x))
    forward = (op.apply(x) * y).sum()
    assert torch.isclose(forward, (x * op.adjoint(y, x.shape)).sum(), atol=1e-10, rtol=0)


@pytest.mark.parametrize("wavelet, levels, n, mode, offset, dense", CASES)
def test_adjoints_are_exact(wavelet, levels, n, mode, offset, dense) -> None:
    plan = axis_plan(wavelet, levels, n + offset, mode, False)
    x = torch.randn(3, n, 2, dtype=torch.float64)
    assert_adjoint(analysis(plan, offset, x), x)
    c = torch.randn(plan.rows(3), plan.slots, 2, dtype=torch.float64)
    c[3 * plan.blocks :] = 0.0  # the slack rows are zero by construction
    assert_adjoint(synthesis(plan, n, x), c)


@pytest.mark.parametrize("size", [(13, 30), (5, 4), (40, 9)])
def test_2d_adjoints_are_exact(size: tuple[int, int]) -> None:
    plans = [axis_plan("db2", 2, s, "symmetric", True) for s in size]
    x = torch.randn(2, *size, 3, dtype=torch.float64)
    forward, inverse = pyramid(*plans, x)
    assert_adjoint(forward, x)
    c = forward.apply(torch.randn_like(x))  # a buffer with zero slack
    assert_adjoint(inverse, c)


@pytest.mark.parametrize("n", [7, 20])
def test_autograd_runs_the_adjoint(n: int) -> None:
    plan = axis_plan("db2", 2, n, "symmetric", False)
    x = torch.randn(2, n, 2, dtype=torch.float64, requires_grad=True)
    forward = analysis(plan, 0, x)
    assert torch.autograd.gradcheck(lambda t: linear(t, forward), (x,))
    assert torch.autograd.gradgradcheck(lambda t: linear(t, forward), (x,))
    inverse = synthesis(plan, n, x)
    c = linear(x, forward).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: linear(t, inverse), (c,))
    image = torch.randn(1, 5, 4, 1, dtype=torch.float64, requires_grad=True)
    forward2d, _ = pyramid(*(axis_plan("haar", 1, s, "symmetric", True) for s in (5, 4)), image)
    assert torch.autograd.gradcheck(lambda t: linear(t, forward2d), (image,))


class _CountOps(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[str(func)] += 1
        return func(*args, **(kwargs or {}))


def dispatched(module: torch.nn.Module, x: torch.Tensor) -> Counter[str]:
    module(x)  # build the cached constants first
    with _CountOps() as counter:
        module(x)
    return counter.ops


@pytest.mark.parametrize("mode", ["pointwise", "channel", "level"])
@pytest.mark.parametrize("causal", [False, True])
def test_forward_runs_the_same_ops_at_any_depth(mode: str, causal: bool) -> None:
    """No loop over levels: one level and five dispatch exactly the same operations."""
    x = torch.randn(2, 300, 4)
    shallow = dispatched(WaveletMixing(4, "db2", 1, mode, causal=causal), x)
    assert shallow == dispatched(WaveletMixing(4, "db2", 5, mode, causal=causal), x)


@pytest.mark.parametrize("wavelet, n", [("db2", 2500), ("db4", 36)])
def test_2d_forward_runs_the_same_ops_at_any_depth(wavelet: str, n: int) -> None:
    """Block products (a 50 x 50 grid) and the compact small-grid path (6 x 6)."""
    x = torch.randn(2, n, 4)
    plans = [WaveletMixing2D(4, wavelet, depth).plans(*grid_shape(n)) for depth in (1, 3)]
    assert len(plans[0]) == len(plans[1]) == 1  # one stage each
    assert compact_grid(*plans[0][0]) == compact_grid(*plans[1][0]) == (n == 36)
    shallow = dispatched(WaveletMixing2D(4, wavelet, 1), x)
    assert shallow == dispatched(WaveletMixing2D(4, wavelet, 3), x)


@pytest.mark.parametrize(
    "config",
    [
        WaveletMixingConfig(hidden_dim=8),
        WaveletMixingConfig(hidden_dim=8, mixing_mode="channel", causal=True),
        WaveletMixingConfig(hidden_dim=8, mixing_mode="level", causal=True),
        WaveletMixingConfig(hidden_dim=8, wavelet="haar", mixing_mode="level", dropout=0.1),
        WaveletMixing2DConfig(channels=8),
        WaveletMixing2DConfig(channels=8, wavelet="haar"),
        WaveletMixing2DConfig(channels=8, wavelet="db2", mixing_mode="channel"),
        WaveletMixingConfig(hidden_dim=8, wavelet="coif5", levels=5, mixing_mode="level"),
        WaveletMixingConfig(hidden_dim=8, wavelet="db4", levels=7),
        WaveletMixing2DConfig(channels=8, wavelet="db8", levels=5),
        WaveletMixing2DConfig(channels=8, wavelet="db8", levels=5, mixing_mode="channel"),
    ],
)
@pytest.mark.parametrize("n", [10, 100])
def test_memory_kept_for_backward_is_the_estimate(config, n: int) -> None:
    module = build(config)
    expected = config.cost(Dims(2, n, 8)).activation_bytes
    assert held_for_backward(module, torch.randn(2, n, 8)) == expected
