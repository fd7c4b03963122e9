"""Compiled models against the same models hand-written in plain, idiomatic PyTorch.

``models.py`` measures every compiled model against the machine's matrix-product rate; this
script asks the question a user asks first: is the compiled model as fast as the PyTorch a
careful researcher would write for it? For the families whose mixer is a few lines of
``torch.fft`` and the LST models (between them, every family that misses the efficiency
goal of ``models.py`` in some run), it runs the compiled model and a hand-written forward
that shares its weights:

* the blocks: ``x + mixer(norm1(x))`` then ``x + fc2(gelu(fc1(norm2(x))))`` with the
  model's own ``nn.LayerNorm`` and ``nn.Linear`` modules;
* ``fnet``: ``torch.fft.fft2(h, dim=(1, 2), norm="ortho").real``;
* ``gfnet``: ``irfft(rfft(h, dim=1) * complex(act(W_re), act(W_im)), dim=1)``;
* ``afno``: ``rfft`` over the sequence, ``fft`` over the hidden axis, the kept bins
  indexed out, the complex block MLP as two ``einsum`` products, scattered back into a
  zero spectrum, ``ifft`` and ``irfft``;
* ``lst-dct``, ``lst-dst``, ``lst-hadamard``, ``lst-mixed``: ``q, k, v`` from the model's
  ``nn.Linear``; per head group its transform along the sequence (orthonormal DCT-II
  through one complex FFT in Makhoul's order; DST-II as the DCT of the alternated signal
  read backwards; Walsh-Hadamard as one butterfly stage per bit); the product, its
  inverse, the per-channel scale and the output ``nn.Linear``;
* ``floor``: the blocks with no mixer (``x + norm1(x)``), as in ``models.py``.

Outputs must agree to ``1e-4`` (max abs difference over max abs value). Both get the same
efficiency ratio as in ``models.py`` (forward time over ``matmul_flops`` at the GEMM rate
measured in the same rounds), and the speed-up is hand-written time over compiled time.

Usage::

    python benchmarks/handwritten.py                  # n = 512, 8192
    python benchmarks/handwritten.py --quick          # tiny smoke run (seconds)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from common import (
    add_timing_options,
    ffn_gemms,
    fmt_ms,
    format_table,
    machine_line,
    reuse_freed_memory,
    setup_torch,
    time_interleaved,
)
from models import FLOOR, Case, build_case
from torch import Tensor, nn

from specdsl.library.afno.modules import ACTIVATIONS as AFNO_ACTIVATIONS
from specdsl.library.afno.modules import SHRINK
from specdsl.library.global_filter.modules import ACTIVATIONS as FILTER_ACTIVATIONS

TOLERANCE = 1e-4
Transform = Callable[[Tensor], Tensor]


def fnet(mixer: nn.Module, h: Tensor) -> Tensor:
    """FNet as its paper writes it: the real part of the 2-D DFT."""
    return torch.fft.fft2(h, dim=(1, 2), norm=mixer.fft_norm).real


def gfnet(mixer: nn.Module, h: Tensor) -> Tensor:
    """GFNet: the activated complex filter times the real FFT along the sequence."""
    n = h.shape[1]
    if n != mixer.sequence_length:
        raise ValueError("the hand-written GFNet runs at the filter's own length only")
    act = FILTER_ACTIVATIONS[mixer.activation]
    weight = torch.complex(act(mixer.filter_real), act(mixer.filter_imag))  # (n//2+1, D)
    spectrum = torch.fft.rfft(h, dim=1, norm=mixer.fft_norm)
    return torch.fft.irfft(spectrum * weight, n=n, dim=1, norm=mixer.fft_norm)


def afno(mixer: nn.Module, h: Tensor) -> Tensor:
    """AFNO: the complex block MLP on the kept bins of the 2-D spectrum, soft-shrunk."""
    b, n, d = h.shape
    kept = min(mixer.modes_seq, n // 2 + 1)
    positive, negative = (mixer.modes_hidden + 1) // 2, mixer.modes_hidden // 2
    bins = torch.cat((torch.arange(positive), torch.arange(d - negative, d)))
    spectrum = torch.fft.fft(torch.fft.rfft(h, dim=1, norm="ortho"), dim=2, norm="ortho")
    z = spectrum[:, :kept, bins].reshape(b, kept, mixer.num_blocks, mixer.block_size)
    w1, b1, w2, b2 = (torch.complex(p[0], p[1]) for p in (mixer.w1, mixer.b1, mixer.w2, mixer.b2))
    act = AFNO_ACTIVATIONS[mixer.activation]
    hidden = torch.einsum("bkgc,gcw->bkgw", z, w1) + b1
    hidden = torch.complex(act(hidden.real), act(hidden.imag))
    out = torch.einsum("bkgw,gwc->bkgc", hidden, w2) + b2
    out = torch.complex(F.softshrink(out.real, SHRINK), F.softshrink(out.imag, SHRINK))
    full = torch.zeros_like(spectrum)
    full[:, :kept, bins] = out.reshape(b, kept, -1)
    return torch.fft.irfft(torch.fft.ifft(full, dim=2, norm="ortho"), n=n, dim=1, norm="ortho")


def dct(x: Tensor) -> Tensor:
    """Orthonormal DCT-II along the last axis, through one complex FFT in Makhoul's order."""
    n = x.shape[-1]
    v = torch.cat((x[..., ::2], x[..., 1::2].flip(-1)), dim=-1)
    angle = torch.arange(n, dtype=x.dtype) * (math.pi / (2 * n))
    spectrum = torch.fft.fft(v, dim=-1)
    out = (spectrum.real * torch.cos(angle) + spectrum.imag * torch.sin(angle)) * math.sqrt(2 / n)
    out[..., 0] /= math.sqrt(2)
    return out


def idct(c: Tensor) -> Tensor:
    """The inverse of :func:`dct` (orthonormal DCT-III), through one inverse FFT."""
    n = c.shape[-1]
    y = c * math.sqrt(n / 2)
    y[..., 0] *= math.sqrt(2)
    angle = torch.arange(n, dtype=c.dtype) * (math.pi / (2 * n))
    mirrored = torch.cat((torch.zeros_like(y[..., :1]), y[..., 1:].flip(-1)), dim=-1)
    v = torch.fft.ifft(torch.complex(y, -mirrored) * torch.exp(1j * angle), dim=-1).real
    half = (n + 1) // 2
    x = torch.empty_like(v)
    x[..., ::2], x[..., 1::2] = v[..., :half], v[..., half:].flip(-1)
    return x


def alternating(n: int, dtype: torch.dtype) -> Tensor:
    """``(-1)^i``: DST-II is the DCT-II of the alternated signal, read backwards."""
    return 1.0 - 2.0 * (torch.arange(n) % 2).to(dtype)


def dst(x: Tensor) -> Tensor:
    """Orthonormal DST-II along the last axis."""
    return dct(x * alternating(x.shape[-1], x.dtype)).flip(-1)


def idst(c: Tensor) -> Tensor:
    """The inverse of :func:`dst`."""
    return idct(c.flip(-1)) * alternating(c.shape[-1], c.dtype)


def hadamard(x: Tensor) -> Tensor:
    """Orthonormal Walsh-Hadamard transform along the last axis (a power of two), Sylvester
    order: one butterfly stage per bit; it is its own inverse."""
    n = x.shape[-1]
    if n & (n - 1):
        raise ValueError("the hand-written Hadamard transform needs a power-of-two length")
    y, half = x, 1
    while half < n:
        pairs = y.reshape(*x.shape[:-1], n // (2 * half), 2, half)
        low, high = pairs[..., 0, :], pairs[..., 1, :]
        y = torch.stack((low + high, low - high), dim=-2)
        half *= 2
    return y.reshape(x.shape) / math.sqrt(n)


TRANSFORMS: dict[str, tuple[Transform, Transform]] = {
    "dct": (dct, idct),
    "dst": (dst, idst),
    "hadamard": (hadamard, hadamard),
}


def lst(mixer: nn.Module, h: Tensor) -> Tensor:
    """LST: ``W_o (T^-1(T q * T k * T v) * scale)`` per head, each head group with its own
    transform along the sequence."""
    if not mixer.normalize:
        raise ValueError("the hand-written LST uses orthonormal transforms only")
    b, n, _ = h.shape
    qkv = mixer.qkv(h).view(b, n, 3, mixer.num_heads, mixer.head_dim)
    q, k, v = qkv.permute(2, 0, 3, 4, 1)  # each (B, H, d, n)
    outputs, start = [], 0
    for kind, count in mixer.groups:
        forward, inverse = TRANSFORMS[kind]
        heads = slice(start, start + count)
        outputs.append(inverse(forward(q[:, heads]) * forward(k[:, heads]) * forward(v[:, heads])))
        start += count
    y = torch.cat(outputs, dim=1)
    if mixer.scale is not None:
        y = y * mixer.scale
    return mixer.out_proj(y.permute(0, 3, 1, 2).reshape(b, n, -1))


def floor(mixer: nn.Module, h: Tensor) -> Tensor:
    """No mixer: the block adds its normalised input (``models.py``'s floor)."""
    return h


MIXERS: dict[str, Callable[[nn.Module, Tensor], Tensor]] = {
    "fnet": fnet,
    "gfnet": gfnet,
    "afno": afno,
    "lst-dct": lst,
    "lst-dst": lst,
    "lst-hadamard": lst,
    "lst-mixed": lst,
    FLOOR: floor,
}


def hand_written(case: Case, mixer: Callable[[nn.Module, Tensor], Tensor]) -> Tensor:
    """The compiled model's forward, written out in plain PyTorch with its modules."""
    model = case.model
    x = model.positional(case.x)
    for block in model.blocks:
        x = x + mixer(block.mixer, block.norm1(x))
        x = x + block.ffn.fc2(F.gelu(block.ffn.fc1(block.norm2(x))))
    return model.output_head(model.final_norm(x), None)


def compare(n: int, args: argparse.Namespace) -> list[list[object]]:
    """Rows at length ``n``: both forms of every family, timed in the same rounds."""
    x = torch.randn(args.batch, n, args.hidden, generator=torch.Generator().manual_seed(n))
    cases = {name: build_case(name, args, n, x) for name in args.families}
    fns: dict[str, Callable[[], object]] = {}
    errors = {}
    with torch.no_grad():
        for name, case in cases.items():
            compiled, written = case.forward(), hand_written(case, MIXERS[name])
            errors[name] = ((compiled - written).abs().max() / written.abs().max()).item()
            fns[f"{name} compiled"] = case.forward
            fns[f"{name} hand-written"] = lambda c=case, m=MIXERS[name]: hand_written(c, m)
        gemms = ffn_gemms(args.batch * n, args.hidden, 4 * args.hidden)
        fns.update((f"(GEMM {kernel})", gemm.fn) for kernel, gemm in gemms.items())
        timings = time_interleaved(fns, args.repeats, args.warmup, args.budget)
    rate = max(gemm.rate(timings, f"(GEMM {kernel})") for kernel, gemm in gemms.items())
    rows = []
    for name, case in cases.items():
        compiled = timings.median_ms(f"{name} compiled")
        written = timings.median_ms(f"{name} hand-written")
        ideal_ms = case.matmul_flops / rate * 1e3
        error = errors[name]
        rows.append(
            [
                name,
                n,
                fmt_ms(compiled),
                fmt_ms(written),
                f"{written / compiled:.2f}x",
                f"{compiled / ideal_ms:.2f}",
                f"{written / ideal_ms:.2f}",
                f"{error:.1e}",
                "yes" if error <= TOLERANCE else "**no**",
            ]
        )
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 8192])
    p.add_argument("--families", nargs="+", default=list(MIXERS), choices=list(MIXERS))
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--blocks", type=int, default=4)
    p.add_argument("--batch", type=int, default=8)
    add_timing_options(p, repeats=7, budget=30.0)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.hidden, args.blocks, args.batch = [16, 32], 32, 2, 2
        args.repeats = args.threads = 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_torch(args.threads)
    reuse = reuse_freed_memory()
    print(f"{machine_line(args.threads)}, freed memory reused: {'yes' if reuse else 'no'}")
    print(
        f"hidden_dim={args.hidden} blocks={args.blocks} batch={args.batch} float32 no_grad; "
        f"median of {args.repeats} interleaved rounds; ratio = forward / (matmul_flops / GEMM "
        "rate); speed-up = hand-written / compiled"
    )
    rows = [row for n in args.sizes for row in compare(n, args)]
    headers = [
        "family",
        "n",
        "compiled ms",
        "hand-written ms",
        "speed-up",
        "ratio compiled",
        "ratio hand-written",
        "error",
        f"error <= {TOLERANCE:g}",
    ]
    print()
    print(format_table(headers, rows))
    return 0 if all(row[-1] == "yes" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
