"""Compiled models train under PyTorch's own distributed engine: DDP and FSDP2.

Two CPU processes (gloo) train the same compiled hybrid model on rank-dependent data, first
with ``DistributedDataParallel``, then with FSDP2 (``fully_shard`` on each of
``model.blocks``, then on the model). Each rank writes its losses and its full parameter
vector to ``tmp_path``; the test checks that the loss falls, that the replicas agree, and
that both equal one process training on the two ranks' batches together (the averaged
gradient of equal halves is the gradient of the whole batch).
"""

from __future__ import annotations

import itertools
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import Tensor, nn
from torch.distributed.tensor import DTensor
from torch.nn import functional as F

import specdsl

SPEC = """
name: dist-hybrid
vocab_size: 50
hidden_dim: 32
max_sequence_length: 16
dropout: 0.0
head: {type: classification, num_classes: 2}
defaults: {lst: {num_heads: 4}}
layers: "repeat 2 [fourier, lst(dct)]"
"""
WORLD, BATCH, N, STEPS, LR = 2, 8, 16, 5, 0.2
DEADLINE_S = 240  # the processes are killed (and the test fails) after this long


def batch(rank: int) -> tuple[Tensor, Tensor]:
    """Rank ``rank``'s fixed batch: token ids ``(BATCH, N)``, label ``ids[:, 0] < 25``."""
    generator = torch.Generator().manual_seed(100 + rank)
    ids = torch.randint(0, 50, (BATCH, N), generator=generator)
    return ids, (ids[:, 0] < 25).long()


def train(model: nn.Module, ids: Tensor, labels: Tensor) -> list[float]:
    """``STEPS`` plain SGD steps on one batch; the loss before each step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(input_ids=ids), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def flat(model: nn.Module) -> Tensor:
    """Every parameter, unsharded (``DTensor.full_tensor()`` under FSDP2), in one vector."""
    parts = [p.full_tensor() if isinstance(p, DTensor) else p for p in model.parameters()]
    return torch.cat([p.detach().reshape(-1) for p in parts])


def worker(rank: int, port: int, out: str) -> None:
    """One rank: DDP, then FSDP2, each on a freshly compiled model; results to ``out``."""
    from torch.distributed.fsdp import fully_shard
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    store = dist.TCPStore("127.0.0.1", port, WORLD, rank == 0, timedelta(seconds=60))
    dist.init_process_group("gloo", store=store, rank=rank, world_size=WORLD)
    try:
        ids, labels = batch(rank)
        ddp = DistributedDataParallel(specdsl.load(SPEC, seed=0))
        ddp_losses = train(ddp, ids, labels)
        model = specdsl.load(SPEC, seed=0)
        for block in model.blocks:
            fully_shard(block)
        fully_shard(model)
        sharded = [type(p).__name__ for p in model.parameters()]
        fsdp_losses = train(model, ids, labels)
        result = {
            "ddp": (ddp_losses, flat(ddp.module)),
            "fsdp": (fsdp_losses, flat(model)),
            "sharded": sharded,
        }
        torch.save(result, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_ranks(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spawn the ranks; fail (killing them) if they are not done within ``DEADLINE_S``."""
    # spawned children import this module by the name pytest gave it ("tests.test_...")
    monkeypatch.syspath_prepend(str(Path(__file__).parents[__name__.count(".")]))
    context = mp.start_processes(
        worker, args=(free_port(), str(out)), nprocs=WORLD, join=False, start_method="spawn"
    )
    deadline = time.monotonic() + DEADLINE_S
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise AssertionError(f"the {WORLD} ranks did not finish within {DEADLINE_S} s")


def test_ddp_and_fsdp2_train_a_compiled_hybrid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_ranks(tmp_path, monkeypatch)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]

    # one process, both ranks' batches at once: what the averaged gradient must give
    both = [torch.cat(parts) for parts in zip(*(batch(r) for r in range(WORLD)), strict=True)]
    reference = specdsl.load(SPEC, seed=0)
    initial = flat(reference)
    reference_losses = train(reference, *both)
    expected = flat(reference)

    assert set(ranks[0]["sharded"]) == {DTensor.__name__}  # FSDP2 really sharded every parameter
    for engine in ("ddp", "fsdp"):
        vectors = [rank[engine][1] for rank in ranks]
        assert torch.equal(vectors[0], vectors[1]), f"{engine}: replicas disagree"
        assert not torch.allclose(vectors[0], initial), f"{engine}: nothing was trained"
        torch.testing.assert_close(vectors[0], expected, rtol=1e-4, atol=1e-5)
        # the mean of the ranks' losses is the loss of the whole batch: it falls every step
        per_rank = [rank[engine][0] for rank in ranks]
        losses = [sum(step) / WORLD for step in zip(*per_rank, strict=True)]
        torch.testing.assert_close(losses, reference_losses, rtol=1e-4, atol=1e-5)
        assert all(b < a for a, b in itertools.pairwise(losses)), f"{engine}: {losses}"
        assert losses[-1] < 0.95 * losses[0], f"{engine}: loss barely fell: {losses}"
