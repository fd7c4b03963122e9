"""Train compiled models on a generated task: is the marker token in the first half?

Every sequence holds filler tokens (2 .. vocab_size-1) and exactly one marker (token 1) at
a uniformly random position; the label is 1 when that position is in the first half. The
marker is always present, so the model must learn *where* it is, not only whether it is.
Chance is 50%.

Usage::

    python examples/train_synthetic.py                    # the three specs in examples/specs/
    python examples/train_synthetic.py examples/specs/marker-hybrid.yaml --seq-len 128

Each epoch prints one line (mean training loss, held-out accuracy, elapsed time); training
stops at the first epoch whose held-out accuracy reaches ``--target`` (default 0.9), or
after ``--epochs``. The exit status is 0 when every spec reached its target.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F

import specdsl

MARKER = 1  # token id of the marker; 0 is never used, fillers are 2 .. vocab_size - 1
FIRST_FILLER = 2
SPECS = sorted((Path(__file__).parent / "specs").glob("marker-*.yaml"))


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained and evaluated (all sizes positive)."""

    seq_len: int = 512  # tokens per sequence
    batch_size: int = 32  # sequences per step
    steps_per_epoch: int = 50  # optimizer steps between evaluations
    epochs: int = 12  # at most this many epochs
    lr: float = 3e-3  # AdamW learning rate
    weight_decay: float = 0.01
    eval_size: int = 512  # held-out sequences, fixed for the whole run
    target: float = 0.9  # stop once held-out accuracy reaches this
    seed: int = 0  # data seed (training batches and held-out set)

    def __post_init__(self) -> None:
        for name in ("seq_len", "batch_size", "steps_per_epoch", "epochs", "eval_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.seq_len < 2:
            raise ValueError(f"seq_len must be at least 2 (two halves), got {self.seq_len}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not 0.0 < self.target <= 1.0:
            raise ValueError(f"target must be in (0, 1], got {self.target!r}")


@dataclass
class TrainResult:
    """What one run reached: held-out accuracy per epoch (epoch 0: before training)."""

    name: str
    accuracies: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # mean training loss per epoch
    seconds: float = 0.0
    steps: int = 0

    @property
    def accuracy(self) -> float:
        """Held-out accuracy after the last epoch."""
        return self.accuracies[-1]


def marker_batch(
    generator: torch.Generator, batch_size: int, seq_len: int, vocab_size: int
) -> tuple[Tensor, Tensor]:
    """``(input_ids (B, N), labels (B,))``: one marker per row, label = marker in first half."""
    if vocab_size <= FIRST_FILLER:
        raise ValueError(f"vocab_size must be at least {FIRST_FILLER + 1}, got {vocab_size}")
    ids = torch.randint(FIRST_FILLER, vocab_size, (batch_size, seq_len), generator=generator)
    where = torch.randint(0, seq_len, (batch_size,), generator=generator)
    ids[torch.arange(batch_size), where] = MARKER
    return ids, (where < seq_len // 2).long()


@torch.no_grad()
def accuracy(model: nn.Module, ids: Tensor, labels: Tensor, chunk: int = 128) -> float:
    """Fraction of rows whose predicted class is the label (eval mode, in chunks)."""
    was_training = model.training
    model.eval()
    correct = sum(
        int((model(input_ids=part).argmax(-1) == want).sum())
        for part, want in zip(ids.split(chunk), labels.split(chunk), strict=True)
    )
    model.train(was_training)
    return correct / len(labels)


def train(model: nn.Module, config: TrainConfig, log: Callable[[str], None] = print) -> TrainResult:
    """Train ``model`` (a compiled classifier with a vocabulary) on the marker task.

    Parameters
    ----------
    model : nn.Module
        Compiled with ``head: classification`` (2 classes) and ``vocab_size >= 3``.
    config : TrainConfig
        Sizes, optimizer settings, the stopping target and the data seed.
    log : callable
        Receives one progress line per epoch.

    Returns
    -------
    TrainResult
    """
    vocab = getattr(model, "vocab_size", None)
    if not vocab or getattr(model, "num_classes", None) != 2:
        raise ValueError("the marker task needs a model with vocab_size and 2 output classes")
    most = int(getattr(model, "max_sequence_length", config.seq_len))
    if config.seq_len > most:
        raise ValueError(
            f"seq_len must be at most the model's max_sequence_length {most}, got {config.seq_len}"
        )
    held_out = marker_batch(
        torch.Generator().manual_seed(config.seed + 1), config.eval_size, config.seq_len, vocab
    )
    batches = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    result = TrainResult(name=getattr(getattr(model, "spec", None), "name", "model"))
    result.accuracies.append(accuracy(model, *held_out))
    start = time.perf_counter()
    model.train()
    for epoch in range(1, config.epochs + 1):
        total = 0.0
        for _ in range(config.steps_per_epoch):
            ids, labels = marker_batch(batches, config.batch_size, config.seq_len, vocab)
            loss = F.cross_entropy(model(input_ids=ids), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
        result.steps += config.steps_per_epoch
        result.losses.append(total / config.steps_per_epoch)
        result.accuracies.append(accuracy(model, *held_out))
        result.seconds = time.perf_counter() - start
        log(
            f"{result.name}  epoch {epoch:2d}  step {result.steps:4d}  "
            f"loss {result.losses[-1]:.4f}  accuracy {result.accuracy:.3f}  "
            f"{result.seconds:6.1f} s"
        )
        if result.accuracy >= config.target:
            break
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="*", default=[str(p) for p in SPECS], metavar="SPEC")
    parser.add_argument("--seq-len", type=int, default=defaults.seq_len)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--steps-per-epoch", type=int, default=defaults.steps_per_epoch)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--target", type=float, default=defaults.target)
    parser.add_argument("--seed", type=int, default=defaults.seed, help="data and weight seed")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = TrainConfig(
            seq_len=args.seq_len,
            batch_size=args.batch_size,
            steps_per_epoch=args.steps_per_epoch,
            epochs=args.epochs,
            lr=args.lr,
            target=args.target,
            seed=args.seed,
        )
        if args.threads < 1:
            raise ValueError(f"--threads must be a positive integer, got {args.threads}")
    except ValueError as err:
        print(f"train_synthetic: error: {err}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    results = []
    for path in args.specs:
        torch.manual_seed(args.seed)
        try:
            model = specdsl.load(path, seed=args.seed)
            results.append(train(model, config))
        except (specdsl.SpecError, ValueError) as err:
            print(f"{path}: error: {err}", file=sys.stderr)
            return 1
    print()
    for result in results:
        mark = "ok" if result.accuracy >= config.target else "below target"
        print(
            f"{result.name:16s} accuracy {result.accuracy:.3f} after {result.steps} steps"
            f" in {result.seconds:.1f} s  ({mark})"
        )
    return 0 if all(r.accuracy >= config.target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
