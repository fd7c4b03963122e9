"""Every fast path against the straightforward PyTorch implementation of the same function.

Each layer is compiled from the DSL (one block; its mixer is measured) and compared with a
plain implementation that shares its weights:

* ``fnet``: dense ``n x n`` and ``D x D`` DFT matrices;
* ``lst-dct``, ``lst-dst``, ``lst-hadamard``: dense transform matrices along the sequence;
* ``wavelet``: a Python loop over channels, one ``conv1d`` DWT per level (pywt's filters
  and symmetric extension) and one ``conv_transpose1d`` per inverse level;
* ``spectral-attention``, ``performer``, ``kernel-attention``: the same random-feature
  kernel, but the ``n x n`` attention matrix materialised and row-normalised;
* ``attention``: ``torch.nn.MultiheadAttention`` with the layer's weights (default call,
  which also returns the head-averaged weights).

Outputs must agree to ``1e-4`` (max abs difference over max abs value); times are
medians of interleaved runs, printed as naive / fast.

Usage::

    python benchmarks/naive.py                 # n = 1024, 4096
    python benchmarks/naive.py --quick         # tiny smoke run (seconds)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import pywt
import torch
import torch.nn.functional as F
from common import (
    add_timing_options,
    fmt_ms,
    format_table,
    machine_line,
    setup_torch,
    time_interleaved,
)
from torch import Tensor, nn

import specdsl

Naive = Callable[[nn.Module, Tensor, dict], Tensor]
TOLERANCE = 1e-4
GOAL = 5.0


# -- shared pieces ------------------------------------------------------------------------


def split_heads(layer: nn.Module, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v ``(B, H, n, d)`` from the layer's fused projection."""
    b, n, _ = x.shape
    qkv = F.linear(x, layer.qkv.weight, layer.qkv.bias)
    qkv = qkv.view(b, n, 3, layer.num_heads, layer.head_dim).permute(2, 0, 3, 1, 4)
    return qkv[0], qkv[1], qkv[2]


def merge_heads(layer: nn.Module, y: Tensor) -> Tensor:
    """``(B, H, n, d)`` -> output projection ``(B, n, D)``."""
    b, h, n, d = y.shape
    return F.linear(
        y.transpose(1, 2).reshape(b, n, h * d), layer.out_proj.weight, layer.out_proj.bias
    )


# -- dense transforms ---------------------------------------------------------------------


def dft_matrix(n: int) -> Tensor:
    """Orthonormal ``n x n`` DFT matrix (complex64)."""
    k = torch.arange(n, dtype=torch.float64)
    angle = -2 * math.pi * torch.outer(k, k).remainder(n) / n
    return torch.polar(torch.full_like(angle, n**-0.5), angle).to(torch.complex64)


def cosine_matrix(kind: str, n: int) -> Tensor:
    """Orthonormal DCT-II or DST-II matrix ``T[k, i]`` (float32, rows are frequencies)."""
    k = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(n, dtype=torch.float64)[None, :]
    if kind == "dct":
        matrix = torch.cos(math.pi * k * (2 * i + 1) / (2 * n)) * math.sqrt(2.0 / n)
        matrix[0] /= math.sqrt(2.0)
    else:
        matrix = torch.sin(math.pi * (k + 1) * (2 * i + 1) / (2 * n)) * math.sqrt(2.0 / n)
        matrix[-1] /= math.sqrt(2.0)
    return matrix.float()


def hadamard_matrix(m: int) -> Tensor:
    """Orthonormal Sylvester Hadamard matrix of order ``m`` (a power of two)."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < m:
        h = torch.cat((torch.cat((h, h), 1), torch.cat((h, -h), 1)), 0)
    return (h / math.sqrt(m)).float()


def lst_operators(kind: str, n: int) -> tuple[Tensor, Tensor]:
    """``(T, T^-1)``: ``(s, n)`` and ``(n, s)`` dense operators of one LST transform."""
    if kind == "hadamard":
        m = 1 << (n - 1).bit_length()
        h = hadamard_matrix(m)
        return h[:, :n], h[:n, :]
    matrix = cosine_matrix(kind, n)
    return matrix, matrix.T


def naive_fnet(layer: nn.Module, x: Tensor, mats: dict) -> Tensor:
    """``Re(F_n X F_D)`` with dense DFT matrices."""
    n, d = x.shape[1], x.shape[2]
    seq = mats.setdefault(("dft", n), dft_matrix(n))
    hid = mats.setdefault(("dft", d), dft_matrix(d))
    return (seq @ x.to(torch.complex64) @ hid).real


def naive_lst(layer: nn.Module, x: Tensor, mats: dict) -> Tensor:
    """``W_o T^-1(T q * T k * T v) * scale`` with dense ``T`` along the sequence."""
    q, k, v = split_heads(layer, x)
    n = x.shape[1]
    kinds = layer.head_transforms
    out = torch.empty_like(q)
    for kind in dict.fromkeys(kinds):  # at most three transform kinds
        heads = torch.tensor([i for i, kk in enumerate(kinds) if kk == kind])
        forward, inverse = mats.setdefault((kind, n), lst_operators(kind, n))
        spectra = [forward @ t[:, heads] for t in (q, k, v)]
        out[:, heads] = inverse @ (spectra[0] * spectra[1] * spectra[2])
    if layer.scale is not None:
        out = out * layer.scale.transpose(-1, -2)  # (H, d, 1) -> (H, 1, d)
    return merge_heads(layer, out)


# -- wavelet: a loop over channels ---------------------------------------------------------


def symmetric_index(n: int, taps: int, out: int) -> Tensor:
    """Positions read by pywt's analysis ``y[o] = sum_j f[j] x[2o + 1 - j]``, mode symmetric."""
    p = torch.arange(-(taps - 2), 2 * (out - 1) + 2)
    r = p.remainder(2 * n)
    return torch.where(r < n, r, 2 * n - 1 - r)


def channel_dwt(signal: Tensor, dec_lo: Tensor, dec_hi: Tensor) -> tuple[Tensor, Tensor]:
    """One level of ``pywt.dwt(signal, mode="symmetric")`` on rows ``(B, n)``."""
    n, taps = signal.shape[-1], dec_lo.numel()
    out = (n + taps - 1) // 2
    ext = signal[:, symmetric_index(n, taps, out)].unsqueeze(1)
    a = F.conv1d(ext, dec_lo.flip(0).view(1, 1, -1), stride=2)[:, 0]
    d = F.conv1d(ext, dec_hi.flip(0).view(1, 1, -1), stride=2)[:, 0]
    return a, d


def channel_idwt(a: Tensor, d: Tensor, rec_lo: Tensor, rec_hi: Tensor) -> Tensor:
    """One level of ``pywt.idwt(a, d, mode="symmetric")`` on rows ``(B, m)``."""
    taps, m = rec_lo.numel(), a.shape[-1]
    full = F.conv_transpose1d(a.unsqueeze(1), rec_lo.view(1, 1, -1), stride=2)
    full = full + F.conv_transpose1d(d.unsqueeze(1), rec_hi.view(1, 1, -1), stride=2)
    return full[:, 0, taps - 2 : 2 * m]


def naive_wavelet(layer: nn.Module, x: Tensor, mats: dict) -> Tensor:
    """Pointwise wavelet mixing, one channel at a time."""
    filters = [torch.tensor(f, dtype=x.dtype) for f in pywt.Wavelet(layer.wavelet).filter_bank]
    dec_lo, dec_hi, rec_lo, rec_hi = filters
    weight = layer.band_weight
    n = x.shape[1]
    out = torch.empty_like(x)
    for c in range(x.shape[2]):  # the straightforward loop the fast layer avoids
        approx, details = x[:, :, c], []
        for _ in range(layer.levels):
            approx, detail = channel_dwt(approx, dec_lo, dec_hi)
            details.append(detail)
        signal = approx * weight[0, c]
        for level, detail in enumerate(reversed(details), start=1):
            signal = channel_idwt(
                signal[:, : detail.shape[-1]], detail * weight[level, c], rec_lo, rec_hi
            )
        out[:, :, c] = signal[:, :n]
    return out


# -- linear attention with the n x n matrix ------------------------------------------------


def dense_features(layer: nn.Module, z: Tensor) -> Tensor:
    """The layer's random features of ``z`` (already scaled by ``d^-1/4``), unstabilised."""
    omega = layer.kernel.omega
    proj = z @ omega
    if layer.feature_kind == "relu":
        return F.relu(proj) / math.sqrt(omega.shape[1])
    weight = 1.0 if layer.feature_kind == "gaussian" else 0.5
    return torch.exp(proj - weight * z.square().sum(-1, keepdim=True)) / math.sqrt(omega.shape[1])


def naive_linear_attention(layer: nn.Module, x: Tensor, mats: dict) -> Tensor:
    """``A V`` with ``A = phi(q) phi(k)^T`` materialised ``(B, H, n, n)`` and row-normalised."""
    q, k, v = split_heads(layer, x)
    scale = layer.head_dim**-0.25
    scores = dense_features(layer, q * scale) @ dense_features(layer, k * scale).mT
    return merge_heads(layer, (scores / scores.sum(-1, keepdim=True)) @ v)


def naive_attention(layer: nn.Module, x: Tensor, mats: dict) -> Tensor:
    """``nn.MultiheadAttention`` holding the layer's weights, called the default way."""
    mha = mats.get("mha")
    if mha is None:
        mha = nn.MultiheadAttention(layer.hidden_dim, layer.num_heads, batch_first=True)
        with torch.no_grad():
            mha.in_proj_weight.copy_(layer.qkv.weight)
            mha.in_proj_bias.copy_(layer.qkv.bias)
            mha.out_proj.weight.copy_(layer.out_proj.weight)
            mha.out_proj.bias.copy_(layer.out_proj.bias)
        mats["mha"] = mha.eval()
    return mha(x, x, x)[0]


#: name -> (DSL layer, naive implementation)
CASES: dict[str, tuple[str, Naive]] = {
    "fnet": ("fourier", naive_fnet),
    "lst-dct": ("lst(dct)", naive_lst),
    "lst-dst": ("lst(dst)", naive_lst),
    "lst-hadamard": ("lst(hadamard)", naive_lst),
    "wavelet": ("wavelet", naive_wavelet),
    "spectral-attention": ("spectral_attention", naive_linear_attention),
    "performer": ("performer", naive_linear_attention),
    "kernel-attention": ("kernel_attention", naive_linear_attention),
    "attention": ("attention", naive_attention),
}


def compiled_mixer(call: str, hidden: int, n: int) -> nn.Module:
    """The token mixer of a one-block model compiled from the DSL."""
    spec = f"hidden_dim: {hidden}\nmax_sequence_length: {n}\nlayers: {call}"
    return specdsl.compile(spec, seed=0).blocks[0].mixer.eval()


def compare(name: str, n: int, args: argparse.Namespace) -> list[object]:
    """One table row: times, speed-up and agreement of the fast and naive paths."""
    call, naive = CASES[name]
    layer = compiled_mixer(call, args.hidden, n)
    x = torch.randn(args.batch, n, args.hidden, generator=torch.Generator().manual_seed(n))
    mats: dict = {}
    with torch.no_grad():
        fast_out, naive_out = layer(x), naive(layer, x, mats)
        error = ((fast_out - naive_out).abs().max() / naive_out.abs().max()).item()
        timings = time_interleaved(
            {"fast": lambda: layer(x), "naive": lambda: naive(layer, x, mats)},
            args.repeats,
            args.warmup,
            args.budget,
        )
    fast, slow = timings.median_ms("fast"), timings.median_ms("naive")
    speedup = slow / fast
    return [
        name,
        n,
        fmt_ms(fast),
        fmt_ms(slow),
        f"{speedup:.1f}x",
        f"{error:.1e}",
        "yes" if error <= TOLERANCE else "**no**",
        ("yes" if speedup >= GOAL else "**no**") if n == max(args.sizes) else "-",
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--batch", type=int, default=1)
    add_timing_options(p, repeats=5, budget=20.0)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.hidden, args.repeats, args.threads = [24, 32], 32, 1, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_torch(args.threads)
    print(machine_line(args.threads))
    print(
        f"hidden_dim={args.hidden} batch={args.batch} float32 no_grad; median of "
        f"{args.repeats} interleaved runs; error = max|fast - naive| / max|naive|"
    )
    rows = [compare(name, n, args) for n in args.sizes for name in args.cases]
    headers = [
        "layer",
        "n",
        "fast ms",
        "naive ms",
        "naive / fast",
        "error",
        f"error <= {TOLERANCE:g}",
        f">= {GOAL:g}x at n={max(args.sizes)}",
    ]
    print()
    print(format_table(headers, rows))
    return 0 if all(row[6] == "yes" for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
