"""Cost formulas shared by the Fourier-type layers (torch-free).

Conventions (docs/estimates.md, docs/layers/fourier_family.md): an FFT of ``N`` points
counts ``5 N log2 N`` (complex input) or ``2.5 N log2 N`` (real input, also for the
inverse real transform) via :func:`specdsl.library.base.fft_flops`; a complex
element-wise product counts 6 FLOPs (4 multiplications, 2 additions), a real one 1.
``matmul_flops`` is what ``FlopCounterMode`` measures: ``2*m*n*k`` per matrix product
(``bmm``/``mm``) and ``2 * out_elements * kernel * c_in`` per convolution.
"""

from __future__ import annotations

from specdsl.library.base import Cost, fft_flops

#: FLOPs of one complex multiplication ``(a + ib)(c + id)``: 4 products, 2 sums.
COMPLEX_MUL = 6

#: Base block of the exact causal convolution: per-channel kernels and channel-mixing ones.
DEPTHWISE_BLOCK = 32
DENSE_BLOCK = 8


def pair_matmul_flops(rows: int, c_in: int, c_out: int) -> int:
    """A complex ``(rows, c_in) @ (c_in, c_out)`` product done as one real matrix product.

    ``[re, im] @ [[W_re, W_im], [-W_im, W_re]]``: ``2 * rows * (2 c_in) * (2 c_out)``.
    """
    return 8 * rows * c_in * c_out


def causal_plan(n: int, block: int) -> tuple[int, int, int]:
    """Layout of the exact causal convolution of a length-``n`` input.

    Returns ``(b, m, levels)``: base blocks of ``b`` samples, the input zero-padded on the
    right to ``m = b * 2**levels >= n``, and ``levels`` doubling stages.
    """
    if n <= block:
        return n, n, 0
    levels = (-(-n // block) - 1).bit_length()
    return block, block << levels, levels


def causal_conv_cost(
    batch: int,
    n: int,
    c_in: int,
    c_out: int | None = None,
    dtype_bytes: int = 4,
    kernel_grad: bool = True,
) -> Cost:
    """Cost of :func:`specdsl.library.fourier.causal.causal_conv` (kernel given).

    ``c_out=None``: a per-channel (depthwise) kernel over ``c_in`` channels; otherwise a
    channel-mixing kernel ``(lags, c_in, c_out)``. ``kernel_grad``: whether the kernel
    requires grad (the input always does).

    * base: every block of ``b`` samples times a lower-triangular ``b x b`` Toeplitz matrix,
      one ``einsum`` (a matrix product): ``2 B m b C`` (depthwise) or ``2 B m b c_in c_out``;
    * stage ``l`` (segment ``s = b 2**l``, ``P = m / 2s`` pairs): real FFTs of length ``2s`` of
      every left half (``B P c_in``), of the kernel (``c_in`` or ``c_in c_out``) and inverse
      ones of the products (``B P c_out``); the products are complex element-wise
      (``6 B P (s+1) C``) or a channel-mixing pair matmul (:func:`pair_matmul_flops`),
      and adding the stage to the output costs ``B m c_out``.

    ``activation_bytes`` counts the tensors autograd keeps (the real FFTs keep nothing,
    :func:`specdsl.library.fourier.lean.rfftn`; the Toeplitz gather keeps a cached index):

    * the ``einsum``'s operands: the Toeplitz blocks (``b^2`` kernels) and, when the kernel
      requires grad, the padded input (``B m c_in``);
    * per stage with ``f = s + 1`` bins: depthwise, the kernel's spectrum (``2 f C``) and,
      when the kernel requires grad, the input's (``2 f B P C``); channel-mixing, the pair
      weight (``4 f c_in c_out``), the product's real/imaginary storage (``2 f B P c_out``,
      kept by ``torch.complex``) and, when the kernel requires grad, the input's pairs
      (``2 f B P c_in``).
    """
    dense = c_out is not None
    out = c_in if c_out is None else c_out
    b, m, levels = causal_plan(n, DENSE_BLOCK if dense else DEPTHWISE_BLOCK)
    kernels = c_in * out if dense else c_in
    matmul = 2 * batch * m * b * kernels
    other = 0
    if b == 1 and not dense:  # n == 1: einsum has nothing to contract, a plain product
        matmul, other = 0, batch * c_in
    kept = b * b * kernels + batch * m * c_in * kernel_grad  # values kept for backward
    for level in range(levels):
        s = b << level
        pairs = m // (2 * s)
        bins = s + 1
        inputs = 2 * bins * batch * pairs * c_in * kernel_grad
        if dense:
            kept += inputs + 4 * bins * kernels + 2 * bins * batch * pairs * out
        else:
            kept += inputs + 2 * bins * kernels
        other += (batch * pairs * (c_in + out) + kernels) * fft_flops(2 * s, real=True)
        other += batch * m * out  # adding the stage's contribution
        if dense:
            matmul += pair_matmul_flops(batch * pairs, c_in, out) * bins
        else:
            other += COMPLEX_MUL * batch * pairs * bins * c_in
    return Cost(
        matmul_flops=matmul,
        other_flops=other,
        activation_bytes=kept * dtype_bytes,
        complexity="O(n log^2 n)",  # log2(n) doubling stages of FFT convolutions
    )


__all__ = [
    "COMPLEX_MUL",
    "DENSE_BLOCK",
    "DEPTHWISE_BLOCK",
    "causal_conv_cost",
    "causal_plan",
    "pair_matmul_flops",
]
