"""The estimate API: totals, rows, repeats, defaults, errors, speed and scale."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

import specdsl
from specdsl.estimate import Estimate, estimate, plan
from specdsl.estimate.compare import crossovers, length_grid

ROOT = Path(__file__).resolve().parents[2]
SMALL = "hidden_dim: 32\nmax_sequence_length: 64\n"
SPEC_KEYS = {
    "name", "batch_size", "seq_len", "params", "param_bytes", "activation_bytes", "flops",
    "matmul_flops", "other_flops", "complexity", "layers",
}  # fmt: skip
ROW_KEYS = {"index", "type", "params", "flops", "complexity"}


def test_json_form_has_the_contract_fields() -> None:
    data = estimate(ROOT / "architectures" / "hybrid.yaml").model_dump(mode="json")
    assert set(data) >= SPEC_KEYS
    assert all(set(row) >= ROW_KEYS for row in data["layers"])
    assert data["seq_len"] == 1024 and data["batch_size"] == 1  # default: max_sequence_length
    assert data["param_bytes"] == 4 * data["params"]
    assert data["flops"] == data["matmul_flops"] + data["other_flops"]


def test_rows_collapse_repeats_and_add_up_to_the_totals() -> None:
    pattern = "fourier, repeat 3 [lst(dct, num_heads=4), repeat 2 [attention]]"
    spec = SMALL + f'vocab_size: 50\nlayers: "{pattern}"'
    est = estimate(spec, batch_size=2, seq_len=20)
    assert [(r.index, r.type, r.count, r.group) for r in est.layers] == [
        (0, "fourier", 1, None),
        (1, "lst", 3, "1"),
        (2, "attention", 6, "1.1"),
    ]
    assert est.num_blocks == 10
    for field in ("params", "matmul_flops", "other_flops", "activation_bytes"):
        blocks = sum(getattr(r, field) * r.count for r in est.layers)
        assert blocks + sum(getattr(p, field) for p in est.parts) == getattr(est, field)
    expanded = estimate(spec, batch_size=2, seq_len=20, expand=True)
    assert [r.type for r in expanded.layers] == ["fourier"] + ["lst", "attention", "attention"] * 3
    assert [r.index for r in expanded.layers] == list(range(10))
    assert expanded.params == est.params and expanded.flops == est.flops


def test_repeat_multiplies_without_expanding() -> None:
    one = estimate(SMALL + "layers: fourier", seq_len=16)
    start = time.perf_counter()
    many = estimate(SMALL + 'layers: "repeat 1000000000 [fourier]"', seq_len=16)
    assert time.perf_counter() - start < 0.5
    block = one.layers[0]
    assert many.num_blocks == 10**9
    assert many.params - 10**9 * block.params == one.params - block.params
    assert many.flops - 10**9 * block.flops == one.flops - block.flops


def test_complexity_is_the_largest_over_blocks() -> None:
    assert estimate(SMALL + "layers: fourier").complexity == "O(n log n)"
    assert estimate(SMALL + 'layers: "fourier, attention"').complexity == "O(n^2)"
    rows = estimate(SMALL + 'layers: "fourier, attention"').layers
    assert [r.complexity for r in rows] == ["O(n log n)", "O(n^2)"]


def test_flops_grow_with_length_as_declared() -> None:
    planned = plan(SMALL.replace("64", "65536") + 'layers: "attention(num_heads=4)"')
    small, large = (planned.evaluate(1, n).flops for n in (8192, 32768))
    assert large / small > 10  # quadratic: 4x longer, ~16x the work at large n


def test_dtype_changes_bytes_not_flops() -> None:
    f32 = estimate(SMALL + "layers: lst", dtype="float32")
    bf16 = estimate(SMALL + "layers: lst", dtype="bfloat16")
    assert bf16.param_bytes * 2 == f32.param_bytes
    assert bf16.flops == f32.flops
    assert bf16.activation_bytes < f32.activation_bytes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seq_len": 0}, "seq_len must be a positive integer, got 0"),
        ({"seq_len": 65}, "seq_len must be between 1 and 64, got 65"),
        ({"seq_len": 2.5}, "seq_len must be a positive integer, got 2.5"),
        ({"batch_size": -1}, "batch_size must be a positive integer, got -1"),
        ({"batch_size": True}, "batch_size must be a positive integer"),
        ({"dtype": "int4"}, "dtype must be one of"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        estimate(SMALL + "layers: fourier", **kwargs)


def test_invalid_spec_raises_the_same_problems_as_parse() -> None:
    text = SMALL + 'layers: "fourir, lst(transform_type=dcx)"\nhead: {type: classification}'
    with pytest.raises(specdsl.SpecError) as parsed:
        specdsl.parse(text)
    with pytest.raises(specdsl.SpecError) as estimated:
        estimate(text)
    assert estimated.value.problems == parsed.value.problems
    assert len(estimated.value.problems) >= 2


def test_expand_refuses_huge_models() -> None:
    with pytest.raises(ValueError, match="at most 10,000"):
        estimate(SMALL + 'layers: "repeat 20000 [fourier]"', expand=True)


def test_specdsl_estimate_is_the_function_even_after_importing_the_package() -> None:
    import specdsl.estimate.report  # binds the package to the name specdsl.estimate

    result = specdsl.estimate(SMALL + "layers: fourier", batch_size=2, seq_len=8)
    assert isinstance(result, Estimate) and result.batch_size == 2


def test_thousand_block_model_of_three_trillion_parameters_estimates_fast() -> None:
    kinds = (
        "attention(num_heads=16, ffn_hidden_dim={})",
        "fourier(ffn_hidden_dim={})",
        "lst(dct, ffn_hidden_dim={})",
    )
    items = ", ".join(kinds[i % 3].format(65536 + i) for i in range(1000))
    spec = specdsl.parse(f'hidden_dim: 16384\nmax_sequence_length: 8192\nlayers: "{items}"')
    tracemalloc.start()
    start = time.perf_counter()
    est = estimate(spec)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 2e12 < est.params < 4e12 and est.num_blocks == 1000
    assert elapsed < 2.0  # ~0.2 s; the 1 s is measured by benchmarks/estimate_speed.py
    assert peak < 300 * 2**20


def test_length_grid_is_dense_then_geometric() -> None:
    grid = length_grid(1000)
    assert grid[:16] == list(range(1, 17)) and grid[-1] == 1000
    assert grid == sorted(set(grid))
    assert len(grid) < 100


def test_crossover_is_where_the_order_of_flops_changes() -> None:
    long = SMALL.replace("64", "16384")
    attention = ("attention", plan(long + 'layers: "attention(num_heads=4)"'))
    fourier = ("fourier", plan(long + 'layers: "lst(dct, num_heads=4)"'))
    (found,) = crossovers(attention, fourier)
    assert found.cheaper == "fourier" and found.before == "attention"
    n = found.seq_len

    def flops(planned, m: int) -> int:
        return planned.total(planned.dims(1, m)).flops

    assert flops(attention[1], n - 1) <= flops(fourier[1], n - 1)
    assert flops(attention[1], n) > flops(fourier[1], n)
    assert "fourier becomes cheaper than attention at n =" in found.describe()


def test_no_crossover_names_the_cheaper_spec() -> None:
    small = ("small", plan(SMALL + "layers: fourier"))
    big = ("big", plan(SMALL + 'layers: "repeat 2 [fourier]"'))
    (found,) = crossovers(small, big)
    assert found.seq_len is None and found.cheaper == "small"
    assert found.describe() == "no crossover up to n = 64: small is cheaper than big throughout"
